#!/bin/bash
# Everything a program built before the attach is found from the kernel at the checkpoint:
# programs started without dmtcp that set up their state first (unix sockets of every type
# between two processes, with data in flight and a listener's backlog; UDP, UDP6 and netlink
# sockets with queued datagrams; files, pipes and FIFOs; signal dispositions, masks and
# pending signals, rlimits, credentials; eventfd, timerfd, signalfd and epoll; file locks;
# memfds shared with a child), attached, then checkpointed, killed and restarted three times,
# each checking its own state.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_ATTACH=1 RS_NPROCS=2 rs_cycles "$(prog rs_socks)" 250
RS_ATTACH=1 rs_cycles "$(prog rs_udp)" 250
RS_ATTACH=1 rs_cycles "$(prog rs_files)" 200
RS_ATTACH=1 rs_cycles "$(prog rs_state)" 250
RS_ATTACH=1 RS_NPROCS=2 rs_cycles "$(prog rs_anonfd)" 150
RS_ATTACH=1 RS_NPROCS=2 rs_cycles "$(prog rs_locks)" 150
RS_ATTACH=1 RS_NPROCS=2 rs_cycles "$(prog rs_memfd)" 300
