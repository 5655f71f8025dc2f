"""The emulator's own voice: espeak-ng through ctypes, independent of Studiobot's offline provider.

espeak-ng keeps process-global state. The project's offline provider may load the same library in
the same process (tests run both), so the emulator loads a private copy of the ``.so``: a distinct
file is a distinct library instance to the dynamic loader, with its own state and its own lock.
"""

from __future__ import annotations

import audioop
import ctypes
import shutil
import tempfile
import threading
from pathlib import Path

RATE = 24_000
_SYNCHRONOUS, _DONT_EXIT, _POS_CHARACTER, _UTF8 = 2, 0x8000, 1, 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# Gemini's 30 voices as the emulator sounds them: espeak variant, pitch (0-100), words per minute.
VOICES: dict[str, tuple[str, int, int]] = {
    "Zephyr": ("f1", 62, 180), "Puck": ("m3", 58, 190), "Charon": ("m1", 38, 165), "Kore": ("f2", 50, 170),
    "Fenrir": ("m4", 55, 205), "Leda": ("f5", 72, 185), "Orus": ("m2", 36, 160), "Aoede": ("f3", 56, 175),
    "Callirrhoe": ("f4", 48, 160), "Autonoe": ("f1", 70, 175), "Enceladus": ("m7", 44, 150),
    "Iapetus": ("m5", 50, 175), "Umbriel": ("m6", 46, 160), "Algieba": ("m1", 48, 170),
    "Despina": ("f2", 60, 165), "Erinome": ("f3", 66, 180), "Algenib": ("m8", 32, 155),
    "Rasalgethi": ("m2", 45, 172), "Laomedeia": ("f5", 64, 195), "Achernar": ("f4", 58, 150),
    "Alnilam": ("m3", 40, 168), "Schedar": ("m5", 42, 165), "Gacrux": ("f2", 40, 155),
    "Pulcherrima": ("f1", 54, 190), "Achird": ("m4", 50, 178), "Zubenelgenubi": ("m6", 54, 185),
    "Vindemiatrix": ("f3", 46, 150), "Sadachbia": ("m7", 62, 200), "Sadaltager": ("m8", 52, 170),
    "Sulafat": ("f4", 68, 165),
}  # fmt: skip
VOICES_BY_KEY = {name.lower(): name for name in VOICES}


class _Engine:
    """A private instance of libespeak-ng and the buffer its callback fills."""

    def __init__(self) -> None:
        import espeakng_loader  # lazy: the emulator imports without espeak-ng

        self._dir = tempfile.TemporaryDirectory(prefix="emulator-espeak-")
        private = Path(self._dir.name) / "libespeak-ng-emulator.so"
        shutil.copyfile(espeakng_loader.get_library_path(), private)
        lib = ctypes.CDLL(str(private))
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = None
        self.rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), _DONT_EXIT)
        if self.rate <= 0:
            raise RuntimeError(f"espeak_Initialize -> {self.rate}")
        self.lib = lib
        self.chunks: list[bytes] = []
        self._callback = _Callback(self._collect)  # kept alive as long as the library may call it
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None) -> int:
        if wav and count > 0:
            self.chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def say(self, text: str, voice: str, language: str | None) -> bytes:
        variant, pitch, wpm = VOICES.get(voice, VOICES["Kore"])
        names = [language.strip().lower(), language.strip().lower().split("-")[0]] if language else []
        for name in [*names, "en"]:
            if self.lib.espeak_SetVoiceByName(f"{name}+{variant}".encode()) == 0:
                break
        for param, value in ((_RATE, wpm), (_VOLUME, 100), (_PITCH, pitch), (_RANGE, 50)):
            self.lib.espeak_SetParameter(param, value, 0)
        data = text.encode("utf-8")
        self.chunks = []
        self.lib.espeak_ng_SetRandSeed(0)
        self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _UTF8, None, None)
        self.lib.espeak_Synchronize()
        pcm, self.chunks = b"".join(self.chunks), []
        return pcm


_LOCK = threading.Lock()
_engine: _Engine | None = None


def say(text: str, voice: str = "Kore", language: str | None = None) -> bytes:
    """s16le mono PCM at 24 kHz for one voice; blocking, so call it off the loop."""
    global _engine
    with _LOCK:
        if _engine is None:
            _engine = _Engine()
        pcm = _engine.say(text, voice, language)
        rate = _engine.rate
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    if rate != RATE and pcm:
        pcm, _ = audioop.ratecv(pcm, 2, 1, rate, RATE, None)
    return pcm
