#!/usr/bin/env python3
"""A hostile ManageSieve server for tests (plain TCP, no STARTTLS: give the client --allow-plaintext).

  hostile_managesieve.py MODE

Listens on 127.0.0.1 (a free port, printed as "port N" on stdout) and serves every connection in MODE:

  huge-literal  accepts any login, lists one script, and answers GETSCRIPT with a literal announced as 5 GB,
                then sends 64 MiB of it as fast as the client takes it
  silent        accepts the connection and never sends anything
  echo-login    answers AUTHENTICATE with NO and the base64 it got, as a careless server might
"""
import signal
import socket
import sys
import threading

signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

mode = sys.argv[1]
GREETING = b'"IMPLEMENTATION" "hostile"\r\n"SASL" "PLAIN"\r\n"VERSION" "1.0"\r\nOK "ready"\r\n'


def serve(sock):
    buffer = b""
    if mode == "silent":
        while sock.recv(65536):
            pass
        return
    try:
        sock.sendall(GREETING)
        while True:
            while b"\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            line, buffer = buffer.split(b"\r\n", 1)
            sys.stderr.write("got %r\n" % line)
            words = line.split(b" ")
            command = words[0].upper()
            if command == b"AUTHENTICATE":
                if mode == "echo-login":
                    sock.sendall(b'NO "bad credentials: ' + words[-1].strip(b'"') + b'"\r\n')
                else:
                    sock.sendall(b"OK\r\n")
            elif command == b"LISTSCRIPTS":
                sock.sendall(b'"big" ACTIVE\r\nOK\r\n')
            elif command == b"GETSCRIPT":
                sock.sendall(b"{5000000000}\r\n")
                block = b"#" * 65536
                for _ in range(1024):
                    sock.sendall(block)
                return
            elif command == b"LOGOUT":
                sock.sendall(b'OK "bye"\r\n')
                return
            else:
                sock.sendall(b'NO "unknown"\r\n')
    except OSError:
        pass
    finally:
        sock.close()


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print("port %d" % listener.getsockname()[1], flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve, args=(sock,), daemon=True).start()


main()
