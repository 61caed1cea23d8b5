#!/usr/bin/env python3
"""Gives a user's folders ACL entries, subscriptions and special-use homes with Python's imaplib, and changes them
afterwards, so that the reconcile of folder properties is checked against changes MailFerry did not make.

  folder_properties.py prepare HOST PORT USER PASSWORD CAFILE
        -> Projects (subscribed; bob@example.com lrs, carol@example.com lr), Projects/Old (not subscribed; bob@example.com lr),
           a message in each and in the server's Sent (special use \\Sent) and Drafts
  folder_properties.py unsubscribe HOST PORT USER PASSWORD CAFILE FOLDER
  folder_properties.py setacl HOST PORT USER PASSWORD CAFILE FOLDER IDENTIFIER RIGHTS

Folder names are plain ASCII here and use the server's separator "/". Connections use STARTTLS with CAFILE.
"""
import imaplib, ssl, sys


def connect(host, port, user, password, cafile):
    m = imaplib.IMAP4(host, int(port))
    m.starttls(ssl_context=ssl.create_default_context(cafile=cafile))
    m.login(user, password)
    return m


def ok(what, result):
    typ, data = result
    if typ != "OK":
        raise SystemExit(f"{what}: {data}")
    return data


def quote(name):
    return '"' + name + '"'


def message(subject):
    return (f"From: a@example.org\r\nTo: alice@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@example.org>\r\n\r\nbody of {subject}\r\n").encode()


def prepare(host, port, user, password, cafile):
    m = connect(host, port, user, password, cafile)
    for name in ["Projects", "Projects/Old"]:
        ok("CREATE " + name, m.create(quote(name)))
    ok("SUBSCRIBE", m.subscribe(quote("Projects")))
    ok("SETACL", m.setacl(quote("Projects"), "bob@example.com", "lrs"))
    ok("SETACL", m.setacl(quote("Projects"), "carol@example.com", "lr"))
    ok("SETACL", m.setacl(quote("Projects/Old"), "bob@example.com", "lr"))
    for name in ["INBOX", "Projects", "Projects/Old", "Sent", "Drafts"]:
        ok("APPEND " + name, m.append(quote(name), "(\\Seen)", None, message("in " + name)))
    m.logout()


def unsubscribe(host, port, user, password, cafile, folder):
    m = connect(host, port, user, password, cafile)
    ok("UNSUBSCRIBE", m.unsubscribe(quote(folder)))
    m.logout()


def setacl(host, port, user, password, cafile, folder, identifier, rights):
    m = connect(host, port, user, password, cafile)
    ok("SETACL", m.setacl(quote(folder), identifier, rights))
    m.logout()


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"prepare": prepare, "unsubscribe": unsubscribe, "setacl": setacl}[command](*args)
