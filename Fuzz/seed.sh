#!/usr/bin/env bash
# Seeds every Fuzz/corpus/TARGET from the repository's test data (format-spec vectors, samples/store, IMAP
# transcripts) and a few handmade inputs. run.sh calls it when a corpus folder is missing (files of the same name are rewritten); the
# stored corpora are what it made plus what fuzzing found (merged to the inputs that add coverage).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
C=Fuzz/corpus
V=format-spec/vectors
mk() { mkdir -p "$C/$1"; }
put() { printf '%b' "$3" > "$C/$1/$2"; }

# statement
mk statement
cp $V/statement.json $C/statement/vector.json
# The harness puts the vectors' manifest in frame 0 at offset 0, without items.
sed -e 's/"frame":1,"offset":6144/"frame":0,"offset":0/' $V/statement.json > $C/statement/harness-layout.json
# manifest
mk manifest
cp $V/manifest.jsonl $C/manifest/vector.jsonl
head -n 2 $V/manifest.jsonl > $C/manifest/head-only.jsonl
# manifestline: the vectors' manifest (the stored corpus also has the writer's change lines of every kind)
mk manifestline
cp $V/manifest.jsonl $C/manifestline/vector.jsonl
# tar
mk tar
{ zstd -dc $V/tiny.mfa | head -c 6144; printf '\n--mailferry-fuzz-manifest--\n'; cat $V/manifest.jsonl; } > $C/tar/vector
# archive
mk archive
cp $V/tiny.mfa $C/archive/tiny.mfa
# age: the encrypted vector, cut short, and a header alone
mk age
cp $V/tiny.mfa.age $C/age/tiny.mfa.age
head -c 300 $V/tiny.mfa.age > $C/age/cut-after-header
head -c 1000 $V/tiny.mfa.age > $C/age/cut-in-chunk
put age grease '-> X25519 AAAA\nAAAA\n-> x-grease a b\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n'
sed -i '1i age-encryption.org/v1' $C/age/grease
# seektable
mk seektable
cp $V/tiny.mfa $C/seektable/tiny.mfa
# imap
mk imap
i=0
for f in Tests/IMAPCoreTests/Transcripts/*; do
    # First byte: bit 7 expects a greeting; low bits choose how the bytes are cut into reads.
    { printf '\x8b'; cat "$f"; } > $C/imap/transcript-$i; i=$((i+1))
done
put imap fetch-literal '\x05* 1 FETCH (UID 7 RFC822.SIZE 12 FLAGS (\\\\Seen) BODY[] {12}\r\nHello world!)\r\na1 OK done\r\n'
put imap list '\x07* LIST (\\\\HasNoChildren) "/" "INBOX/R&AOk-sum&AOk-"\r\n* STATUS "x" (MESSAGES 3 UIDNEXT 9)\r\na2 OK [UIDVALIDITY 5] ok\r\n'
# managesieve: Pigeonhole's greeting, a GETSCRIPT literal, a NO with a literal, and small limits (first byte 0x85)
mk managesieve
put managesieve greeting '\x03"IMPLEMENTATION" "Dovecot Pigeonhole"\r\n"SASL" "PLAIN LOGIN"\r\n"STARTTLS"\r\n"VERSION" "1.0"\r\nOK "Dovecot ready."\r\n'
put managesieve getscript '\x06"filters" ACTIVE\r\n"b\\\\x"\r\nOK\r\n{14}\r\nkeep;\r\nstop;\r\n\r\nOK (WARNINGS) "w"\r\n'
put managesieve no-literal '\x85NO (QUOTA/MAXSIZE) {13}\r\nline 1\r\nline2\r\nBYE (TAG {3}\r\nabc) "x"\r\n{99999}\r\n'
# smtp
mk smtp
put smtp smtp-session '\x04EHLO a.example\r\nMAIL FROM:<a@x.example> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example> NOTIFY=NEVER\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nRSET\r\nQUIT\r\n'
put smtp lmtp-session '\x85LHLO a.example\r\nMAIL FROM:<>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\nRCPT TO:<d@y.example>\r\nDATA\r\nbody\r\n.\r\nQUIT\r\n'
put smtp starttls '\x43EHLO a\r\nSTARTTLS\r\nEHLO a\r\nNOOP\r\nVRFY x\r\nHELP\r\nQUIT\r\n'
# lmtp-reply
mk lmtp-reply
put lmtp-reply lhlo '\x03220 mx ready\r\n250-mx\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n'
put lmtp-reply data '\x02250 2.1.0 ok\r\n550 5.1.1 <b@y> unknown\r\n354 go\r\n250 2.0.0 <c@y> saved\r\n452 4.3.1 full\r\n'
# contentlines
mk contentlines
for f in $(find samples/store -name '*.vcf' -o -name '*.ics' | sort | head -6); do cp "$f" "$C/contentlines/$(basename "$f")"; done
put contentlines redirect.sieve 'require ["vacation", "copy"];\r\n# redirect "a@x.example";\r\n/* "b@x.example" */ if header :is "to" "a@x.example" { redirect :copy "a@x.example"; }\r\nvacation :addresses ["a@x.example", "c\\"d@x.example"] text:\r\nAway.\r\n..\r\n.\r\n;\r\n'
# mbox
mk mbox
put mbox two-messages '\x08From a@x.example Thu Nov 14 22:13:20 2023\nSubject: one\n\n>From quoted\nbody\n\nFrom b@x.example Fri Nov 15 01:02:03 2023 +0100\nSubject: two\n\n>>From twice\n'
# headers
mk headers
for f in $(find samples/store -path '*/cur/*' | sort | head -4); do cp "$f" "$C/headers/$(basename "$f" | cut -c1-20)"; done
put headers encoded 'Subject: =?UTF-8?B?w6l0w6k=?= =?ISO-8859-1?Q?caf=E9?=\r\n =?windows-1252?q?=80?=\r\nFrom: =?utf-8?q?J=C3=B6rg?= <j@x>\r\nDate: Tue, 1 Nov 2005 12:34:56 +0100 (CET)\r\n\r\n'
# maildir
mk maildir
put maildir fields '3 V12345 N50 G00112233445566778899aabbccddeeff\n7 G0123456789abcdef0123456789abcdef :100.MFabc.mailferry,S=17\n9 W300 :101.MFdef.mailferry,S=17:2,Sa\n'
put maildir version1 '1 77 3\n2 1.M1.host:2,S\n'
put maildir keywords '0 $Forwarded\n1 Work\n'
# mutf7
mk mutf7
put mutf7 accents 'R&AOk-sum&AOk-'
put mutf7 ampersand 'Tom &- Jerry/&ZeVnLIqe-'
# toml
mk toml
put toml full '[smtp]\nhost = "127.0.0.1"\nport = 2525\n\n[lmtp]\nhost = "127.0.0.1"\nport = 2424\n\n[buffer]\nspool = "/var/spool/mailferry"\n\n[limits]\nmax_message_size = 52428800\ncommand_timeout = "300s"\ndata_timeout = 180\nconnections_per_ip = 64\n\n[imap]\nurl = "imaps://mail.example:993"\nallow_plaintext = false\n'
# users-csv
mk users-csv
put users-csv users 'source,target,group\nalice@example.com,,wave1\n"c.smith@abc.com","c_smith@abc.com",wave2\n# comment\n\n"a,b"@x.example,"q""uote@y.example"\r\n'
