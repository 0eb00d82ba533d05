// SPDX-License-Identifier: GPL-2.0
/*
 * Corey kernel cores: CPU hotplug.  When a kernel core's CPU goes offline
 * the scheduler moves the thread elsewhere and breaks its affinity; the
 * clients see HOMELESS.  When the CPU comes back nothing re-pins a user
 * task, so the thread is asked to pin itself again.
 *
 * Copyright (C) 2026 Corey developers
 */
#include <linux/cpuhotplug.h>
#include <linux/printk.h>
#include <linux/sched/user_worker.h>

#include "kcore.h"

static enum cpuhp_state kcore_cpuhp_state;

static int kcore_cpu_online(unsigned int cpu, struct hlist_node *node)
{
	struct kcore *kc = hlist_entry_safe(node, struct kcore, cpuhp_node);

	if (kc->cpu == cpu) {
		set_bit(KCORE_REPIN, &kc->flags);
		user_worker_wake(kc->uw);
	}
	return 0;
}

static int kcore_cpu_offline(unsigned int cpu, struct hlist_node *node)
{
	struct kcore *kc = hlist_entry_safe(node, struct kcore, cpuhp_node);

	if (kc->cpu == cpu)
		kcore_set_ctl_flags(kc, COREY_KCORE_HOMELESS);
	return 0;
}

int kcore_cpu_init(void)
{
	int ret;

	ret = cpuhp_setup_state_multi(CPUHP_AP_ONLINE_DYN, "corey/kcore:online",
				      kcore_cpu_online, kcore_cpu_offline);
	if (ret < 0)
		return ret;
	kcore_cpuhp_state = ret;
	return 0;
}

void kcore_cpu_exit(void)
{
	cpuhp_remove_multi_state(kcore_cpuhp_state);
}

/* Only the re-pin depends on this, so a failure costs nothing else. */
void kcore_cpu_add(struct kcore *kc)
{
	if (cpuhp_state_add_instance_nocalls(kcore_cpuhp_state,
					     &kc->cpuhp_node))
		pr_warn_once("corey_kcore: no CPU hotplug tracking; kernel cores stay where hotplug leaves them\n");
	else
		set_bit(KCORE_CPUHP, &kc->flags);
}

void kcore_cpu_remove(struct kcore *kc)
{
	if (test_and_clear_bit(KCORE_CPUHP, &kc->flags))
		cpuhp_state_remove_instance_nocalls(kcore_cpuhp_state,
						    &kc->cpuhp_node);
}
