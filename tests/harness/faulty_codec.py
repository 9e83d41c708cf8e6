#!/usr/bin/env python3
"""faulty_codec: programs that misbehave in one chosen way, for the tests of saicbench's
command-line codecs (tests/codecs/test_codecs_command.c, tests/harness/test_command_codec.py).
Standard library only.

    faulty_codec.py fail                 writes a reason to stderr and exits with status 3
    faulty_codec.py signal               kills itself with SIGSEGV
    faulty_codec.py sleep PIDFILE        starts a `sleep 60` child, writes its pid to PIDFILE,
                                         sleeps 60 s (a timeout must kill both)
    faulty_codec.py nooutput             exits 0 and writes nothing
    faulty_codec.py empty OUT            writes an empty OUT
    faulty_codec.py wrongsize OUT        writes a 7x5 PPM into OUT (a decoder of the wrong size)
    faulty_codec.py hugepng OUT          writes a PNG whose header claims 100000x100000 pixels
    faulty_codec.py garbage OUT          writes text into OUT (no image format)
    faulty_codec.py argv OUT IN ARG...   writes its arguments after IN as JSON into OUT (to
                                         check they arrive literally)
    faulty_codec.py literal ARG IN OUT Q  exits 4 unless ARG equals LITERAL below exactly, then
                                         encodes like toy_codec.py
"""
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

# Spaces, quotes and what a shell would expand or run; must arrive as one unchanged argument.
LITERAL = "a b; touch pwned-semicolon $(touch pwned-subst) `touch pwned-tick` 'sq' \"dq\" $HOME *"


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "fail":
        sys.stderr.write("faulty_codec: first line\nfaulty_codec: deliberate failure for the test\n")
        return 3
    if mode == "signal":
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(10)
        return 0
    if mode == "sleep":
        child = subprocess.Popen(["sleep", "60"])
        with open(argv[2], "w") as f:
            f.write("%d\n" % child.pid)
        time.sleep(60)
        return 0
    if mode == "nooutput":
        return 0
    if mode == "empty":
        open(argv[2], "wb").close()
        return 0
    if mode == "wrongsize":
        with open(argv[2], "wb") as f:
            f.write(b"P6\n7 5\n255\n" + bytes(7 * 5 * 3))
        return 0
    if mode == "hugepng":
        def chunk(kind, body):
            return (struct.pack(">I", len(body)) + kind + body +
                    struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
        ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
        with open(argv[2], "wb") as f:  # a valid header, one row of data: 150 bytes in all
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                    chunk(b"IDAT", zlib.compress(bytes(300001))) + chunk(b"IEND", b""))
        return 0
    if mode == "garbage":
        with open(argv[2], "w") as f:
            f.write("this is not an image\n")
        return 0
    if mode == "argv":
        with open(argv[2], "w") as f:
            json.dump(argv[4:], f)
        return 0
    if mode == "literal":
        if argv[2] != LITERAL:
            sys.stderr.write("faulty_codec: argument differs: %r\n" % argv[2])
            return 4
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import toy_codec
        return toy_codec.main([argv[0], "encode"] + argv[3:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
