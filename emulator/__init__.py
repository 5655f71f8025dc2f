"""A Gemini REST emulator: an independent reference of the service that imports nothing from Studiobot."""
