/*
 * Names of the constants the tracer prints in its logs (signals, ptrace events, the trapped
 * syscalls), table-driven.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "api_abi.h"
#include "names.h"

#define N(x) [x] = #x

static const char *const sig_names[] = {
	N(SIGHUP),  N(SIGINT),	 N(SIGQUIT), N(SIGILL),	  N(SIGTRAP), N(SIGABRT), N(SIGBUS),
	N(SIGFPE),  N(SIGKILL),	 N(SIGUSR1), N(SIGSEGV),  N(SIGUSR2), N(SIGPIPE), N(SIGALRM),
	N(SIGTERM), N(SIGSTKFLT), N(SIGCHLD), N(SIGCONT),  N(SIGSTOP), N(SIGTSTP), N(SIGTTIN),
	N(SIGTTOU), N(SIGURG),	 N(SIGXCPU), N(SIGXFSZ),  N(SIGVTALRM), N(SIGPROF), N(SIGWINCH),
	N(SIGIO),   N(SIGPWR),	 N(SIGSYS),
};

static const char *const event_names[] = {
	N(PTRACE_EVENT_FORK), N(PTRACE_EVENT_VFORK),	N(PTRACE_EVENT_CLONE),
	N(PTRACE_EVENT_EXEC), N(PTRACE_EVENT_VFORK_DONE), N(PTRACE_EVENT_EXIT),
	N(PTRACE_EVENT_SECCOMP), N(PTRACE_EVENT_STOP),
};

const char *name_signal(int sig)
{
	static char buf[32];

	if (sig > 0 && (size_t)sig < sizeof(sig_names) / sizeof(sig_names[0]) && sig_names[sig])
		return sig_names[sig];
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

const char *name_ptrace_event(int ev)
{
	if (ev > 0 && (size_t)ev < sizeof(event_names) / sizeof(event_names[0]) &&
	    event_names[ev])
		return event_names[ev];
	return "PTRACE_EVENT_?";
}

const char *name_syscall(long nr)
{
	static char buf[32];

	switch (nr) {
	case SYS_socket: return "socket";
	case SYS_connect: return "connect";
	case SYS_accept: return "accept";
	case SYS_bind: return "bind";
	case SYS_listen: return "listen";
	case SYS_socketpair: return "socketpair";
	case SYS_clone: return "clone";
	case SYS_fork: return "fork";
	case SYS_vfork: return "vfork";
	case SYS_execve: return "execve";
	case SYS_accept4: return "accept4";
	case SYS_execveat: return "execveat";
	case SYS_clone3: return "clone3";
	case DMTCP_API_SYSCALL: return "dmtcp_api";
	}
	snprintf(buf, sizeof(buf), "syscall %ld", nr);
	return buf;
}
