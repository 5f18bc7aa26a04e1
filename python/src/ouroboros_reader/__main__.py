"""python -m ouroboros_reader: tail a segment (or print a dumped buffer) as text or JSON lines."""

import argparse
import datetime
import json
import sys
from typing import Any, Dict, List, Optional, TextIO

from ._errors import OuroborosError
from .reader import Entry, Kind, Reader, Start


def _time_text(unix_ns: Optional[int]) -> str:
    if unix_ns is None:
        return "-"
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(unix_ns)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def _printable(text: str) -> str:
    # A payload must not drive the terminal: control characters other than tab become U+FFFD.
    return "".join(c if c >= " " or c == "\t" else "\ufffd" for c in text)


def entry_json(entry: Entry) -> Dict[str, Any]:
    out: Dict[str, Any] = {"seq": entry.seq, "kind": entry.kind.value}
    if entry.lost_before:
        out["lost_before"] = entry.lost_before
    if entry.restarted:
        out["restarted"] = True
    if entry.kind is Kind.RECORD and entry.record is not None:
        r = entry.record
        out.update(
            {
                "time": _time_text(entry.unix_ns),
                "unix_ns": entry.unix_ns,
                "level": str(r.level),
                "tag": r.tag,
                "thread": r.thread,
                "message": r.message,
                "fields": dict(r.fields),
                "truncated": r.truncated,
            }
        )
    else:
        try:
            out["message"] = entry.payload.decode("utf-8")
        except UnicodeDecodeError:
            out["payload_hex"] = entry.payload.hex()
        if entry.error:
            out["error"] = entry.error
    return out


def entry_text(entry: Entry) -> str:
    if entry.kind is Kind.RECORD and entry.record is not None:
        r = entry.record
        fields = "".join(f" {k}={v}" for k, v in r.fields)
        trunc = " [truncated]" if r.truncated else ""
        line = (
            f"{entry.seq} {_time_text(entry.unix_ns)} {str(r.level):<8} [{r.tag}] "
            f"(thread {r.thread}) {r.message}{trunc}{fields}"
        )
    elif entry.kind is Kind.MALFORMED:
        line = f"{entry.seq} malformed record ({entry.error}): {entry.payload.hex()}"
    else:
        line = f"{entry.seq} {entry.message}"
    return _printable(line)


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ouroboros_reader",
        description="Print the entries of an Ouroboros ring log segment (or a dumped buffer).",
    )
    parser.add_argument("name", help="segment name (/dev/shm/NAME), or a file with --file")
    parser.add_argument("--file", action="store_true", help="NAME is a dumped buffer file")
    parser.add_argument("--start", choices=[s.value for s in Start], default="oldest")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--no-follow", action="store_true", help="print what is there now and exit"
    )
    parser.add_argument("--max", type=int, default=0, help="stop after this many entries")
    args = parser.parse_args(argv)

    try:
        reader = Reader.from_file(args.name, args.start) if args.file else Reader.open(
            args.name, args.start
        )
    except (OuroborosError, OSError) as e:
        print(f"ouroboros_reader: {e}", file=sys.stderr)
        return 1
    count = 0
    with reader:
        following = not (args.file or args.no_follow)
        entries = reader.follow() if following else iter(reader)
        try:
            for entry in entries:
                if entry.restarted:
                    note = "segment re-created by a new writer; re-attached"
                    out.write(json.dumps({"event": "restarted"}) + "\n" if args.json else f"-- {note} --\n")
                if entry.lost_before:
                    n = entry.lost_before
                    out.write(
                        json.dumps({"event": "lost", "lost": n}) + "\n"
                        if args.json
                        else f"-- {n} entries lost --\n"
                    )
                out.write(
                    json.dumps(entry_json(entry), ensure_ascii=False) + "\n"
                    if args.json
                    else entry_text(entry) + "\n"
                )
                if following:
                    out.flush()  # a live tail is read by people and pipes as it happens
                count += 1
                if args.max and count >= args.max:
                    break
            out.flush()
        except KeyboardInterrupt:
            pass
        except BrokenPipeError:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
