# Shared helpers for setup_<dataset>.sh (sourced, not run). Every step is printed before it runs; --dry-run prints
# the steps and runs nothing (no download, no folder created); finished steps are skipped, so a script can be
# re-run after an interruption and resumes where it stopped. No sudo, no conda: missing tools are reported
# with the apt package that provides them.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRY_RUN=0
DELETE_ARCHIVES=0
DATA_ROOT="${DATA_ROOT:-Data}"

parse_common_args() {  # usage text in $USAGE; sets DATA_ROOT (env var or first positional), DRY_RUN, DELETE_ARCHIVES
    local positional=0
    for arg in "$@"; do
        case "$arg" in
            --dry-run) DRY_RUN=1 ;;
            --delete-archives) DELETE_ARCHIVES=1 ;;
            -h|--help) echo "$USAGE"; exit 0 ;;
            -*) echo "error: unknown option $arg (see --help)" >&2; exit 2 ;;
            *) if [ "$positional" -eq 1 ]; then echo "error: more than one DATA_ROOT given" >&2; exit 2; fi
               DATA_ROOT="$arg"; positional=1 ;;
        esac
    done
    case "$DATA_ROOT" in /*) ;; *) DATA_ROOT="$PWD/$DATA_ROOT" ;; esac
    DATA_ROOT="${DATA_ROOT%/}"
    PY="${PYTHON:-$REPO/.venv/bin/python}"
    if [ ! -x "$PY" ]; then
        echo "note: $PY not found (run setup/setup.sh first); using python3" >&2
        PY="python3"
    fi
    cd "$REPO"
    [ "$DRY_RUN" -eq 1 ] && echo "dry run: printing every step, running none"
    echo "DATA_ROOT=$DATA_ROOT"
}

step() { echo; echo "== $*"; }

run() {  # print a command (shell-quoted), then run it unless --dry-run
    printf '+'; printf ' %q' "$@"; printf '\n'
    if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}

pyrun() { run "$PY" "$@"; }

need_tool() {  # need_tool TOOL APT_PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        if [ "$DRY_RUN" -eq 1 ]; then
            echo "note: '$1' is not installed; a real run needs it (apt package: $2)"
        else
            echo "error: '$1' is not installed; install the apt package '$2' (e.g. apt-get install $2) and re-run" >&2
            exit 1
        fi
    fi
}

download() {  # download URL DEST [MD5]: resumable; DEST appears only once complete (and checksum-verified)
    local url="$1" dest="$2" md5="${3:-}"
    if [ -f "$dest" ]; then echo "have $dest"; return 0; fi
    if command -v curl >/dev/null 2>&1; then
        run mkdir -p "$(dirname "$dest")"
        run curl -L --fail --retry 5 --retry-delay 10 -C - -o "$dest.part" "$url"
    else
        need_tool wget wget
        run mkdir -p "$(dirname "$dest")"
        run wget -c -O "$dest.part" "$url"
    fi
    if [ -n "$md5" ]; then
        echo "+ md5sum $dest.part  (expect $md5)"
        if [ "$DRY_RUN" -eq 0 ]; then
            local got
            got="$(md5sum "$dest.part" | cut -d' ' -f1)"
            if [ "$got" != "$md5" ]; then
                echo "error: checksum mismatch for $dest.part ($got, expected $md5); delete it and re-run" >&2
                exit 1
            fi
        fi
    fi
    run mv "$dest.part" "$dest"
}

extract() {  # extract ARCHIVE DESTDIR: once (a marker file records completion)
    local archive="$1" dest="$2"
    local marker="$dest/.extracted-$(basename "$archive")"
    if [ -f "$marker" ]; then echo "already extracted $(basename "$archive")"; return 0; fi
    run mkdir -p "$dest"
    case "$archive" in
        *.tar.gz|*.tgz) need_tool tar tar; run tar -xzf "$archive" -C "$dest" ;;
        *.zip) need_tool unzip unzip; run unzip -q -o "$archive" -d "$dest" ;;
        *.7z) need_tool 7z p7zip-full; run 7z x -y "-o$dest" "$archive" ;;
        *) echo "error: do not know how to extract $archive" >&2; exit 1 ;;
    esac
    run touch "$marker"
    if [ "$DELETE_ARCHIVES" -eq 1 ]; then run rm -f "$archive"; fi
}

clone() {  # clone URL DIR: shallow clone once
    if [ -d "$2/.git" ]; then echo "have $2"; return 0; fi
    need_tool git git
    run git clone --depth 1 "$1" "$2"
}

summary() {  # summary DIR...: sizes of what was prepared
    step "summary"
    for d in "$@"; do
        if [ -e "$d" ]; then du -shL "$d" 2>/dev/null || true; else echo "(not yet created) $d"; fi
    done
}
