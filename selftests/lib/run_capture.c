// SPDX-License-Identifier: GPL-2.0
/*
 * Run a program and capture its stdout and stderr separately.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_capture.h"

struct capture_buf {
	char *data;
	size_t len;
	size_t cap;
};

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Append whatever @fd has now; returns bytes read, 0 on EOF, -errno. */
static ssize_t capture_read(int fd, struct capture_buf *buf)
{
	ssize_t n;

	/* Keep room for at least 4 KiB plus the terminating NUL. */
	if (buf->cap - buf->len < 4097) {
		size_t cap = buf->cap ? buf->cap * 2 : 8192;
		char *data = realloc(buf->data, cap);

		if (!data)
			return -ENOMEM;
		buf->data = data;
		buf->cap = cap;
	}
	do {
		n = read(fd, buf->data + buf->len, buf->cap - buf->len - 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf->len += n;
	buf->data[buf->len] = '\0';
	return n;
}

static void exec_child(const char *path, char *const argv[], int out_fd,
		       int err_fd)
{
	int null_fd = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
		_exit(127);
	execv(path, argv);
	dprintf(STDERR_FILENO, "run_capture: exec %s: %s\n", path,
		strerror(errno));
	_exit(127);
}

/*
 * Read both pipes until both reach EOF, i.e. until the child and anything
 * it forked have exited.  Past the deadline, kill the whole process group
 * and keep draining so that nothing is left holding the pipes.
 */
static int drain_pipes(pid_t pid, int out_fd, int err_fd, int timeout_ms,
		       struct capture_buf *out, struct capture_buf *err,
		       bool *timed_out)
{
	long long deadline = monotonic_ms() + timeout_ms;
	struct pollfd fds[2] = {
		{ .fd = out_fd, .events = POLLIN },
		{ .fd = err_fd, .events = POLLIN },
	};
	struct capture_buf *bufs[2] = { out, err };

	*timed_out = false;
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		long long left = deadline - monotonic_ms();
		int ready, i;

		if (left <= 0 && !*timed_out) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		ready = poll(fds, 2, *timed_out ? -1 : (int)left);
		if (ready < 0 && errno != EINTR)
			return -errno;
		for (i = 0; ready > 0 && i < 2; i++) {
			ssize_t n;

			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			n = capture_read(fds[i].fd, bufs[i]);
			if (n < 0)
				return n;
			if (n == 0)
				fds[i].fd = -1;
		}
	}
	return 0;
}

int run_capture(const char *path, char *const argv[], int timeout_ms,
		struct captured_run *run)
{
	struct capture_buf out = { 0 }, err = { 0 };
	int out_pipe[2], err_pipe[2];
	int status, ret;
	pid_t pid;

	memset(run, 0, sizeof(*run));
	if (pipe2(out_pipe, O_CLOEXEC))
		return -errno;
	if (pipe2(err_pipe, O_CLOEXEC)) {
		ret = -errno;
		close(out_pipe[0]);
		close(out_pipe[1]);
		return ret;
	}

	/* Unflushed stdio would otherwise be written twice, once per process. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		exec_child(path, argv, out_pipe[1], err_pipe[1]);
	ret = pid < 0 ? -errno : 0;
	if (pid > 0)
		setpgid(pid, pid);	/* also here: the child may not run first */
	close(out_pipe[1]);
	close(err_pipe[1]);

	if (!ret)
		ret = drain_pipes(pid, out_pipe[0], err_pipe[0], timeout_ms,
				  &out, &err, &run->timed_out);
	close(out_pipe[0]);
	close(err_pipe[0]);
	if (pid < 0)
		goto fail;
	if (ret)
		kill(-pid, SIGKILL);

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto fail;
		}
	}
	if (ret)
		goto fail;

	run->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	run->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	/* Give callers strings even when a stream stayed empty. */
	run->out = out.data ? out.data : strdup("");
	run->out_len = out.len;
	run->err = err.data ? err.data : strdup("");
	run->err_len = err.len;
	if (!run->out || !run->err) {
		captured_run_free(run);
		return -ENOMEM;
	}
	return 0;

fail:
	free(out.data);
	free(err.data);
	return ret;
}

void captured_run_free(struct captured_run *run)
{
	free(run->out);
	free(run->err);
	run->out = NULL;
	run->err = NULL;
}
