# Shell functions for throwaway servers, shared by Benchmarks/*.sh and samples/walkthrough.sh: free loopback ports,
# waiting for a listener, a throwaway Dovecot started from a configuration written to a folder of its own, and
# stopping process groups. Source it from bash:
#
#   . "$ROOT/scripts/servers.sh"
#
# The Swift tests have the same fixture in Tests/TestSupport/DovecotIMAPServer.swift; these are for scripts.

# ensure_packages PKG...: installs the Debian packages that are not installed yet (as root, or through sudo).
ensure_packages() {
    local need=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || need+=("$pkg")
    done
    [ "${#need[@]}" -eq 0 ] && return 0
    printf '==> installing %s\n' "${need[*]}" >&2
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
}

# release_binary ROOT [BIN]: prints BIN as an absolute path, or, without BIN, builds the release mailferry in ROOT
# and prints its path.
release_binary() {
    local root="$1" bin="${2:-}"
    if [ -z "$bin" ]; then
        printf '==> building release\n' >&2
        (cd "$root" && swift build -c release --product mailferry >/dev/null) || return 1
        bin="$root/.build/release/mailferry"
    fi
    echo "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
}

# free_port: a port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# port_listening PORT: whether something accepts connections on 127.0.0.1:PORT.
port_listening() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1" 2>/dev/null; }

# wait_listening WHAT LOG PORT...: waits up to 15 s until every PORT accepts; otherwise prints LOG and exits 1.
wait_listening() {
    local what="$1" log="$2"; shift 2
    local _ port all
    for _ in $(seq 1 150); do
        all=1
        for port in "$@"; do port_listening "$port" || all=0; done
        [ "$all" = 1 ] && return 0
        sleep 0.1
    done
    echo "$what did not start listening on $*:" >&2
    cat "$log" >&2 || true
    exit 1
}

# dovecot_users FILE PASSWORD USER...: a passwd-file where every USER has PASSWORD.
dovecot_users() {
    local file="$1" password="$2"; shift 2
    : >"$file"
    local user
    for user in "$@"; do printf '%s:{PLAIN}%s::::::\n' "$user" "$password" >>"$file"; done
}

# dovecot_start DIR USERS_FILE [--tls CERT KEY] [--masters FILE] [--lmtp] [--site]
#   Starts a Dovecot (in its own process group) whose every file is under DIR, mail in DIR/mail/USER/Maildir as
#   nobody, users from USERS_FILE. Plain IMAP with passwords allowed unless --tls (then STARTTLS is required on the
#   IMAP port and IMAPS listens too). --masters adds master users (user*master logins); --lmtp a LMTP listener;
#   --site the ACL plugin, special-use folders (Sent, Drafts, Trash, Junk) and readable stats sockets, as a
#   production site has. Sets DOVECOT_PID (the process group to stop with stop_process_groups), DOVECOT_IMAP,
#   DOVECOT_IMAPS (0 without --tls) and DOVECOT_LMTP (0 without --lmtp).
dovecot_start() {
    local dir="$1" users="$2"; shift 2
    local cert="" key="" masters="" lmtp=0 site=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --tls) cert="$2"; key="$3"; shift 3 ;;
            --masters) masters="$2"; shift 2 ;;
            --lmtp) lmtp=1; shift ;;
            --site) site=1; shift ;;
            *) echo "dovecot_start: unknown option $1" >&2; return 2 ;;
        esac
    done
    mkdir -p "$dir/mail" "$dir/run"
    # Dovecot reads and writes mail as nobody.
    chmod 755 "$dir"; chmod 777 "$dir/mail"
    DOVECOT_IMAP=$(free_port); DOVECOT_IMAPS=0; DOVECOT_LMTP=0
    if [ -n "$cert" ]; then
        DOVECOT_IMAPS=$(free_port)
        while [ "$DOVECOT_IMAPS" = "$DOVECOT_IMAP" ]; do DOVECOT_IMAPS=$(free_port); done
    fi
    if [ "$lmtp" = 1 ]; then
        DOVECOT_LMTP=$(free_port)
        while [ "$DOVECOT_LMTP" = "$DOVECOT_IMAP" ] || [ "$DOVECOT_LMTP" = "$DOVECOT_IMAPS" ]; do DOVECOT_LMTP=$(free_port); done
    fi
    {
        echo "base_dir = $dir/run"
        echo "state_dir = $dir/state"
        echo "log_path = $dir/dovecot.log"
        if [ "$lmtp" = 1 ]; then echo "protocols = imap lmtp"; else echo "protocols = imap"; fi
        echo "listen = 127.0.0.1"
        if [ -n "$cert" ]; then
            printf 'ssl = yes\nssl_cert = <%s\nssl_key = <%s\ndisable_plaintext_auth = yes\n' "$cert" "$key"
        else
            printf 'ssl = no\ndisable_plaintext_auth = no\n'
        fi
        cat <<CONF
auth_mechanisms = plain login
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
mail_location = maildir:$dir/mail/%u/Maildir
CONF
        if [ -n "$masters" ]; then
            printf 'auth_master_user_separator = *\npassdb {\n  driver = passwd-file\n  args = %s\n  master = yes\n  pass = yes\n}\n' "$masters"
        fi
        if [ "$site" = 1 ]; then
            cat <<'CONF'
mail_plugins = acl
lmtp_save_to_detail_mailbox = no
protocol imap {
  mail_plugins = $mail_plugins imap_acl
}
plugin {
  acl = vfile
  acl_user = %u
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = create
  }
  mailbox Junk {
    special_use = \Junk
    auto = no
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
        else
            printf 'namespace inbox {\n  inbox = yes\n  separator = /\n}\n'
        fi
        cat <<CONF
passdb {
  driver = passwd-file
  args = $users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DOVECOT_IMAPS
$([ -n "$cert" ] && echo "    ssl = yes")
  }
}
CONF
        if [ "$lmtp" = 1 ]; then
            printf 'service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = %s\n  }\n  unix_listener lmtp {\n    mode = 0600\n  }\n}\n' "$DOVECOT_LMTP"
        fi
    } >"$dir/dovecot.conf"
    setsid /usr/sbin/dovecot -F -c "$dir/dovecot.conf" >"$dir/stderr.log" 2>&1 &
    DOVECOT_PID=$!
    local ports=("$DOVECOT_IMAP")
    [ "$DOVECOT_IMAPS" != 0 ] && ports+=("$DOVECOT_IMAPS")
    [ "$DOVECOT_LMTP" != 0 ] && ports+=("$DOVECOT_LMTP")
    wait_listening "Dovecot in $dir" "$dir/dovecot.log" "${ports[@]}"
}

# radicale_start DIR USER:PASSWORD...: a Radicale (in its own process group) on a free port of 127.0.0.1, plain
#   HTTP, its collections in DIR/collections (which may be seeded before), each user with the password given, every
#   user owning only their own collections. Sets RADICALE_PID (for stop_process_groups) and RADICALE_PORT.
radicale_start() {
    local dir="$1"; shift
    mkdir -p "$dir/collections"
    : > "$dir/users"
    local user
    for user in "$@"; do printf '%s\n' "$user" >> "$dir/users"; done
    RADICALE_PORT=$(free_port)
    cat > "$dir/config" <<CONFIG
[server]
hosts = 127.0.0.1:$RADICALE_PORT
[auth]
type = htpasswd
htpasswd_filename = $dir/users
htpasswd_encryption = plain
[storage]
filesystem_folder = $dir/collections
[rights]
type = owner_only
[logging]
level = warning
CONFIG
    setsid /usr/bin/radicale --config "$dir/config" >"$dir/server.log" 2>&1 &
    RADICALE_PID=$!
    wait_listening radicale "$dir/server.log" "$RADICALE_PORT"
}

# stop_process_groups PID...: ends each process group (a Dovecot, a server started with setsid): SIGTERM, then
# SIGKILL after 5 s.
stop_process_groups() {
    local pid _
    for pid in "$@"; do [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        [ -n "$pid" ] || continue
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
}
