#!/usr/bin/env python3
"""A TCP relay for tests: cuts its first connection once the client has sent more than CUT bytes (or, with
"server", once the server has sent more than CUT bytes); with CONNECTIONS, each of its first CONNECTIONS
connections; with "bye", a cut connection is first sent a BYE line, as a Dovecot shutting down writes one into
whatever it was sending, the middle of a literal included.

  cutting_proxy.py TARGET_PORT CUT [client|server] [CONNECTIONS] [bye]

Listens on 127.0.0.1 (a free port, printed as "port N" on stdout), relays every connection to
127.0.0.1:TARGET_PORT. Each of the first CONNECTIONS (1 by default) connections is closed both ways as soon
as more than CUT bytes have come from the counted side ("cut after N" is printed); later connections are
relayed untouched.
"""
import signal
import socket
import sys
import threading

# A test runner may have blocked signals, and children inherit the mask: make SIGTERM end this relay.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

target_port, cut = int(sys.argv[1]), int(sys.argv[2])
from_server = len(sys.argv) > 3 and sys.argv[3] == "server"
to_cut = [int(sys.argv[4]) if len(sys.argv) > 4 else 1]
parting = b"* BYE Server shutting down.\r\n" if len(sys.argv) > 5 and sys.argv[5] == "bye" else b""
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print("port", listener.getsockname()[1], flush=True)

def pump(src, dst, counted, state):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if counted and state["cut"] is not None:
                state["sent"] += len(data)
                if state["sent"] > state["cut"]:
                    print("cut after", state["sent"], flush=True)
                    if parting:
                        dst.sendall(parting)
                    break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

while True:
    client, _ = listener.accept()
    upstream = socket.create_connection(("127.0.0.1", target_port))
    state = {"sent": 0, "cut": cut if to_cut[0] > 0 else None}
    to_cut[0] -= 1
    threading.Thread(target=pump, args=(client, upstream, not from_server, state), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, from_server, state), daemon=True).start()
