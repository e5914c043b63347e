#!/bin/sh
# Entry point of the gloo-istio Helm 4 post-renderer plugin (plugin.yaml).
#
# Helm 4 runs `sh post-render.sh ARG...`, with one ARG per --post-renderer-args value, the
# manifests on standard input, and reads the result from standard output. This script runs
# `gloo-istio post-render ARG...` on the same standard input and output.
#
# Which gloo-istio: $GLOO_ISTIO_BIN when set (a path, or a name looked up on PATH), else
# `gloo-istio` on PATH.
#
# Standard error: Helm 4 (checked with v4.3.1) discards a post-renderer plugin's standard error
# and reports only `plugin "gloo-istio" exited with error`. So when gloo-istio fails, this
# script sends its messages (file:line:col, what is wrong) to $GLOO_ISTIO_LOG (appended) when
# set, else to helm's own standard error when it is a terminal or a pipe (/proc/$PPID/fd/2,
# Linux), else to standard error (lost).
# On success nothing is printed: Helm 3 does the same with a post-renderer's standard error.
# The exit code is gloo-istio's (127 when it cannot be found).

report() {
  helm_stderr=/proc/$PPID/fd/2
  if [ -n "${GLOO_ISTIO_LOG:-}" ]; then
    printf '%s\n' "$1" >>"$GLOO_ISTIO_LOG"
  elif [ -w "$helm_stderr" ] && [ ! -f "$helm_stderr" ] \
    && (printf '%s\n' "$1" >>"$helm_stderr") 2>/dev/null; then
    # A terminal or a pipe. Not a regular file: helm writes it at its own offset, over ours.
    :
  else
    printf '%s\n' "$1" >&2
  fi
}

bin=${GLOO_ISTIO_BIN:-gloo-istio}
case $bin in
  */*) [ -f "$bin" ] && [ -x "$bin" ] ;;
  *) command -v "$bin" >/dev/null 2>&1 ;;
esac || {
  report "gloo-istio helm plugin: cannot run \`$bin\`: set GLOO_ISTIO_BIN to the gloo-istio binary or put gloo-istio on PATH"
  exit 127
}

# gloo-istio's standard output goes straight to helm (fd 3); its standard error is kept.
exec 3>&1
errors=$("$bin" post-render "$@" 2>&1 1>&3 3>&-)
status=$?
exec 3>&-
if [ "$status" -ne 0 ]; then
  report "$errors"
fi
exit "$status"
