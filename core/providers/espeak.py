"""Real offline speech from espeak-ng, loaded with ctypes from the ``espeakng-loader`` wheel.

The wheel ships ``libespeak-ng.so`` and its data, so no system package or subprocess is
needed. espeak-ng keeps global state and is not thread-safe: every call into it holds
``_LOCK``, and the library is initialised lazily, once, in synchronous mode so each
``espeak_Synth`` call returns only after all samples went through our callback.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import espeakng_loader

from core.errors import InputError, ProviderUnavailable
from core.providers.base import Speech
from core.voices import VOICES_BY_KEY

# speak_lib.h facts (espeak-ng 1.5x).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_EE_OK = 0

_MIN_WPM, _MAX_WPM = 80, 450
_FALLBACK_LANGUAGE = "en"

# int t_espeak_callback(short *wav, int numsamples, espeak_EVENT *events); nonzero aborts.
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    """How one Gemini voice sounds offline: an espeak variant, pitch (0-100) and speed (wpm)."""

    variant: str
    pitch: int
    rate: int
    pitch_range: int = 50


# Every Gemini voice gets its own (variant, pitch, rate); the gender follows Gemini's voice.
VOICE_MAP: dict[str, EspeakVoice] = {
    "Zephyr": EspeakVoice("f1", 62, 180, 70),
    "Puck": EspeakVoice("m3", 58, 190, 75),
    "Charon": EspeakVoice("m1", 38, 165, 40),
    "Kore": EspeakVoice("f2", 50, 170, 45),
    "Fenrir": EspeakVoice("m4", 55, 205, 85),
    "Leda": EspeakVoice("f5", 72, 185, 65),
    "Orus": EspeakVoice("m2", 36, 160, 35),
    "Aoede": EspeakVoice("f3", 56, 175, 60),
    "Callirrhoe": EspeakVoice("f4", 48, 160, 50),
    "Autonoe": EspeakVoice("f1", 70, 175, 60),
    "Enceladus": EspeakVoice("m7", 44, 150, 30),
    "Iapetus": EspeakVoice("m5", 50, 175, 50),
    "Umbriel": EspeakVoice("m6", 46, 160, 45),
    "Algieba": EspeakVoice("m1", 48, 170, 55),
    "Despina": EspeakVoice("f2", 60, 165, 55),
    "Erinome": EspeakVoice("f3", 66, 180, 50),
    "Algenib": EspeakVoice("m8", 32, 155, 40),
    "Rasalgethi": EspeakVoice("m2", 45, 172, 50),
    "Laomedeia": EspeakVoice("f5", 64, 195, 80),
    "Achernar": EspeakVoice("f4", 58, 150, 35),
    "Alnilam": EspeakVoice("m3", 40, 168, 40),
    "Schedar": EspeakVoice("m5", 42, 165, 30),
    "Gacrux": EspeakVoice("f2", 40, 155, 40),
    "Pulcherrima": EspeakVoice("f1", 54, 190, 55),
    "Achird": EspeakVoice("m4", 50, 178, 60),
    "Zubenelgenubi": EspeakVoice("m6", 54, 185, 65),
    "Vindemiatrix": EspeakVoice("f3", 46, 150, 40),
    "Sadachbia": EspeakVoice("m7", 62, 200, 80),
    "Sadaltager": EspeakVoice("m8", 52, 170, 50),
    "Sulafat": EspeakVoice("f4", 68, 165, 55),
}

_LOCK = threading.Lock()


class _Engine:
    """The loaded library, its sample rate and the buffer the callback fills."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = None

        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise ProviderUnavailable("Offline speech is unavailable.", detail=f"espeak_Initialize -> {rate}")
        self.lib = lib
        self.sample_rate: int = rate
        self.chunks: list[bytes] = []
        # Keep the callback object alive as long as the library may call it.
        self._callback = _SynthCallback(self._collect)
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None) -> int:
        if wav and count > 0:
            self.chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def set_voice(self, language: str | None, variant: str) -> None:
        """Pick the best espeak language voice for ``language``, with our variant."""
        for name in _language_candidates(language):
            if self.lib.espeak_SetVoiceByName(f"{name}+{variant}".encode()) == _EE_OK:
                return
        raise ProviderUnavailable("Offline speech is unavailable.", detail="no espeak voice could be loaded")

    def synth(self, text: str) -> bytes:
        data = text.encode("utf-8")
        self.chunks = []
        self.lib.espeak_ng_SetRandSeed(0)
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if status != _EE_OK:
            raise ProviderUnavailable("Offline speech failed.", detail=f"espeak_Synth -> {status}")
        pcm = b"".join(self.chunks)
        self.chunks = []
        return pcm


_engine: _Engine | None = None


def _get_engine() -> _Engine:
    """Initialise espeak once, on first use; the caller holds ``_LOCK``."""
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def _language_candidates(language: str | None) -> list[str]:
    """``de-DE`` -> ``de-de``, ``de``, then English, so an unknown language still speaks."""
    names: list[str] = []
    if language and language.strip():
        code = language.strip().replace("_", "-").lower()
        names += [code, code.split("-")[0]]
    names.append(_FALLBACK_LANGUAGE)
    return list(dict.fromkeys(names))


def espeak_voice(voice: str) -> EspeakVoice:
    """The offline sound of a Gemini voice; unknown names fall back to the default voice."""
    known = VOICES_BY_KEY.get(voice.strip().lower())
    return VOICE_MAP[known.name if known else "Kore"]


def synthesize(text: str, voice: str = "Kore", *, language: str | None = None, rate_wpm: int | None = None) -> Speech:
    """Speak ``text`` with the espeak stand-in for a Gemini voice; blocking, so run it off the loop."""
    if not text.strip():
        raise InputError("There is no text to speak.")
    sound = espeak_voice(voice)
    wpm = max(_MIN_WPM, min(_MAX_WPM, rate_wpm if rate_wpm is not None else sound.rate))
    with _LOCK:
        engine = _get_engine()
        engine.set_voice(language, sound.variant)
        for param, value in ((_RATE, wpm), (_VOLUME, 100), (_PITCH, sound.pitch), (_RANGE, sound.pitch_range)):
            engine.lib.espeak_SetParameter(param, value, 0)
        pcm = engine.synth(text)
        rate = engine.sample_rate
    return Speech(pcm=pcm, sample_rate=rate)


def silence(seconds: float, sample_rate: int) -> Speech:
    """A pause to put between dialogue turns."""
    return Speech(pcm=b"\x00\x00" * max(0, round(seconds * sample_rate)), sample_rate=sample_rate)
