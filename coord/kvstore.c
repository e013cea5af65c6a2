/*
 * The key-value store that restarted processes use to find each other: a listener publishes
 * its new address under a connection id, the other side looks it up, waiting (bounded) until
 * it is published. Keys belong to the current computation and are cleared when a new one
 * starts. Lists are fine here: a computation publishes a handful of keys per connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "log.h"
#include "clock.h"
#include "util.h"

/* The longest a KV_GET may wait, so that a forgotten waiter cannot pin memory forever. */
#define KV_MAX_WAIT_MS (10 * 60 * 1000)

static struct kv_entry *kv_find(const struct coord *co, const char *key)
{
	for (struct kv_entry *e = co->kv; e; e = e->next)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

static void kv_reply(struct coord *co, struct conn *c, const char *key, int status,
		     const char *value)
{
	struct proto_msg m;

	proto_msg_init(&m, MSG_KV_REPLY);
	proto_put_str(&m, F_KEY, key);
	proto_put_u64(&m, F_STATUS, (uint64_t)(int64_t)status);
	if (value)
		proto_put_str(&m, F_VALUE, value);
	coord_send(co, c, &m);
	proto_msg_free(&m);
}

static void free_waiter(struct kv_waiter *w)
{
	free(w->key);
	free(w);
}

void coord_kv_put(struct coord *co, const char *key, const char *value)
{
	struct kv_entry *e = kv_find(co, key);
	struct kv_waiter **pp;
	char *v = strdup(value);

	if (!v) {
		pr_err("out of memory storing key %s", key);
		return;
	}
	if (e) {
		free(e->value);
		e->value = v;
	} else {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strdup(key))) {
			free(e);
			free(v);
			pr_err("out of memory storing key %s", key);
			return;
		}
		e->value = v;
		e->next = co->kv;
		co->kv = e;
	}
	/* Answer everyone who was waiting for this key. */
	pp = &co->kv_waiters;
	while (*pp) {
		struct kv_waiter *w = *pp;

		if (!strcmp(w->key, key)) {
			*pp = w->next;
			kv_reply(co, w->c, key, 0, e->value);
			free_waiter(w);
		} else {
			pp = &w->next;
		}
	}
}

void coord_kv_get(struct coord *co, struct conn *c, const char *key, bool wait,
		  uint64_t timeout_ms)
{
	struct kv_entry *e = kv_find(co, key);
	struct kv_waiter *w;

	if (e) {
		kv_reply(co, c, key, 0, e->value);
		return;
	}
	if (!wait) {
		kv_reply(co, c, key, -ENOENT, NULL);
		return;
	}
	if (timeout_ms > KV_MAX_WAIT_MS)
		timeout_ms = KV_MAX_WAIT_MS;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->key = strdup(key))) {
		free(w);
		kv_reply(co, c, key, -ENOMEM, NULL);
		return;
	}
	w->c = c;
	w->deadline_ms = mono_now_ms() + (long)timeout_ms;
	w->next = co->kv_waiters;
	co->kv_waiters = w;
}

void coord_kv_expire(struct coord *co, long now_ms)
{
	struct kv_waiter **pp = &co->kv_waiters;

	while (*pp) {
		struct kv_waiter *w = *pp;

		if (w->deadline_ms <= now_ms) {
			*pp = w->next;
			kv_reply(co, w->c, w->key, -ETIMEDOUT, NULL);
			free_waiter(w);
		} else {
			pp = &w->next;
		}
	}
}

long coord_kv_next_deadline(const struct coord *co)
{
	long d = -1;

	for (const struct kv_waiter *w = co->kv_waiters; w; w = w->next)
		if (d < 0 || w->deadline_ms < d)
			d = w->deadline_ms;
	return d;
}

void coord_kv_forget_conn(struct coord *co, struct conn *c)
{
	struct kv_waiter **pp = &co->kv_waiters;

	while (*pp) {
		struct kv_waiter *w = *pp;

		if (w->c == c) {
			*pp = w->next;
			free_waiter(w);
		} else {
			pp = &w->next;
		}
	}
}

void coord_kv_clear(struct coord *co)
{
	while (co->kv) {
		struct kv_entry *e = co->kv;

		co->kv = e->next;
		free(e->key);
		free(e->value);
		free(e);
	}
}
