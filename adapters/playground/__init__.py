"""The local web playground: one chat channel in a browser, backed by the same studio as the bots."""

from adapters.playground.app import AccessError, Playground

__all__ = ["AccessError", "Playground"]
