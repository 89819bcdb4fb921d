#!/bin/sh
# Socket-activation probe for run_test.cc: writes what a started service sees
# (LISTEN_* variables, whether LISTEN_PID is itself, and for fds 3..5 the
# file flags and the TCP socket behind it) to $1, then exits. Run directly by
# systemd-socket-activate and by coldstart run, so both views compare.
out=$1
{
  echo "LISTEN_FDS=${LISTEN_FDS-unset}"
  echo "LISTEN_FDNAMES=${LISTEN_FDNAMES-unset}"
  if [ "${LISTEN_PID-}" = "$$" ]; then echo "LISTEN_PID=self"; else echo "LISTEN_PID=${LISTEN_PID-unset}"; fi
  for fd in 3 4 5; do
    if [ -e "/proc/$$/fd/$fd" ]; then
      flags=$(awk '/^flags/ {print $2}' "/proc/$$/fdinfo/$fd")
      inode=$(readlink "/proc/$$/fd/$fd" | tr -dc 0-9)
      sock=$(awk -v i="$inode" '$10 == i {print "local=" $2 " state=" $4}' /proc/net/tcp /proc/net/tcp6)
      echo "fd$fd flags=$flags $sock"
    else
      echo "fd$fd closed"
    fi
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
