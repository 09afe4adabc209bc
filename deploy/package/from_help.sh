#!/usr/bin/env bash
# The man pages yuqingd(8) and yuqingctl(1) and the bash completion of yuqingctl, made
# from the programs' own --help at build time, so that they cannot drift from the code:
# help2man formats each program's --help and --version, and yuqingctl's page gets every
# subcommand's --help (the list read from `yuqingctl --help`), as does the completion.
# Usage: from_help.sh YUQINGD YUQINGCTL OUTDIR
set -euo pipefail
yuqingd=$1 yuqingctl=$2 out=$3
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Run as bare names (argv[0] without the build path), for the usage lines.
ln -s "$(realpath "$yuqingd")" "$work/yuqingd"
ln -s "$(realpath "$yuqingctl")" "$work/yuqingctl"
export PATH="$work:$PATH"

subcommands=$(yuqingctl --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$subcommands" ] || { echo "from_help.sh: no subcommands in yuqingctl --help" >&2; exit 1; }

# A --help text as man(7): the usage line, then each option as a tagged paragraph.
roff() {
  sed -e 's/\\/\\e/g' -e 's/-/\\-/g' | awk '
    function text(s) { sub(/^ +/, "", s); if (s ~ /^[.'"'"']/) s = "\\&" s; print s }
    /^Usage: / { print ".PP"; text($0); next }
    /^[A-Z][A-Za-z]*:$/ { print ".PP"; print "\\fB" $0 "\\fR"; next }
    /^  [^ ]/ {
      line = substr($0, 3); n = index(line, "  ")
      print ".TP"
      if (n) { print "\\fB" substr(line, 1, n - 1) "\\fR"; text(substr(line, n)) }
      else print "\\fB" line "\\fR"
      next }
    /^   +[^ ]/ { text($0); next }
    /^$/ { next }
    { print ".PP"; text($0) }'
}

{
  echo '[SUBCOMMANDS]'
  for s in $subcommands; do
    echo ".SS \"yuqingctl $s\""
    yuqingctl "$s" --help | roff
  done
  echo '[ENVIRONMENT]'
  echo '.TP'
  echo '\fBYUQING_URL\fR'
  echo "the daemon's HTTP address for the subcommands that ask the daemon (default 127.0.0.1:9464)"
  echo '.TP'
  echo '\fBYUQING_HTTP_TOKEN\fR'
  echo 'bearer token of the POST endpoints (the daemon'"'"'s http.token or a person'"'"'s own token)'
  echo '[SEE ALSO]'
  echo '.BR yuqingd (8)'
} >"$work/yuqingctl.h2m"
{
  echo '[FILES]'
  echo '.TP'
  echo '/etc/yuqing/yuqing.yaml'
  echo 'the configuration (every key documented in it); \fByuqingd \-\-check\-config \-\-config FILE\fR validates a file'
  echo '.TP'
  echo '/etc/yuqing/keyword\-sets'
  echo 'the keyword sets (keyword_sets.dir), reloaded on change and on SIGHUP'
  echo '.TP'
  echo '/var/lib/yuqing'
  echo 'the RocksDB store (storage.path)'
  echo '.TP'
  echo '/usr/share/yuqing'
  echo 'the plan, the working-day calendars, the seed keyword sets, the sample stream, Prometheus rules, an Alertmanager example and a Grafana dashboard'
  echo '[SIGNALS]'
  echo 'SIGHUP reloads the keyword sets; SIGTERM and SIGINT stop the daemon (drain, commit, flush).'
  echo '[SEE ALSO]'
  echo '.BR yuqingctl (1)'
} >"$work/yuqingd.h2m"

# NAME: the first line of --help, after "PROGRAM: ".
page() {  # page PROGRAM SECTION
  local name
  name=$("$1" --help | head -n 1 | sed "s/^$1: //")
  help2man --no-info --no-discard-stderr --section "$2" --name "$name" \
    --include "$work/$1.h2m" --output "$work/$1.$2" "$1"
  gzip -9n <"$work/$1.$2" >"$out/$1.$2.gz"
}
page yuqingd 8
page yuqingctl 1

# Bash completion: subcommands, then each one's options, the choices of an option listed
# as TEXT:{a,b}, file names for everything else.
{
  echo '# bash completion for yuqingctl, generated from its --help (deploy/package/from_help.sh).'
  echo '_yuqingctl() {'
  echo '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} sub="" i words=""'
  echo '  for ((i = 1; i < COMP_CWORD; i++)); do'
  echo '    case ${COMP_WORDS[i]} in -*) ;; *) sub=${COMP_WORDS[i]}; break ;; esac'
  echo '  done'
  echo '  case $sub in'
  echo "    \"\") words=\"--help --version $(echo $subcommands)\" ;;"
  for s in $subcommands; do
    help=$(yuqingctl "$s" --help)
    opts=$(sed -n 's/^  \(-[^ ]*\).*/\1/p' <<<"$help" | tr ',' '\n' | sort -u | tr '\n' ' ')
    echo "    $s)"
    choices=$(sed -n 's/^  \(--[a-z-]*\) [A-Z]*:{\([^}]*\)}.*/\1) COMPREPLY=($(compgen -W "\2" -- "$cur")); return ;;/p' <<<"$help" | tr ',' ' ' | sed 's/^/        /')
    if [ -n "$choices" ]; then
      echo '      case $prev in'
      echo "$choices"
      echo '      esac'
    fi
    echo "      words=\"${opts% }\" ;;"
  done
  echo '  esac'
  echo '  if [[ -z $sub || $cur == -* ]]; then'
  echo '    COMPREPLY=($(compgen -W "$words" -- "$cur"))'
  echo '  else'
  echo '    compopt -o filenames 2>/dev/null'
  echo '    COMPREPLY=($(compgen -f -- "$cur"))'
  echo '  fi'
  echo '}'
  echo 'complete -F _yuqingctl yuqingctl'
} >"$out/yuqingctl.bash"
bash -n "$out/yuqingctl.bash"
