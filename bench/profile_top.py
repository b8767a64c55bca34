"""The functions a py-spy profile (`py-spy record -f raw`) spent its samples in, inclusive, heaviest first.

    .venv/bin/python bench/profile_top.py /tmp/signalpost-bench-profiles/updates-100000-web.txt [--top 40] [--grep signalpost]

Idle threads (waiting on a lock, a socket, a poll) count as samples too unless py-spy ran with --gil or
--idle was left off (the default leaves idle frames out).
"""

import argparse
import collections


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--grep", default="", help="only frames whose text contains this (e.g. signalpost/)")
    args = parser.parse_args()
    inclusive: collections.Counter = collections.Counter()
    leaf: collections.Counter = collections.Counter()
    total = 0
    with open(args.profile) as raw:
        for line in raw:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = stack.split(";")
            for frame in dict.fromkeys(frames):
                inclusive[frame] += samples
            leaf[frames[-1]] += samples
    print(f"{total} samples")
    shown = [(f, n) for f, n in inclusive.most_common() if args.grep in f][: args.top]
    for frame, samples in shown:
        print(f"{samples / total * 100:5.1f}% incl  {leaf[frame] / total * 100:5.1f}% self  {frame[:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
