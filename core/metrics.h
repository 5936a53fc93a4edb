/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A set of metric samples: collected by metrics.c, written by serve.c. */
#ifndef PKTSCOPE_METRICS_H
#define PKTSCOPE_METRICS_H

#include <stdio.h>
#include <pktscope/plugin.h>

#define PS_XSTR(x) #x
#define PS_STR(x) PS_XSTR(x)

#define PS_METRIC_LABELS_MAX		12	/* core's 3 + the plugin's */
#define PS_METRIC_NAME_MAX		128
#define PS_METRIC_VALUE_MAX		256	/* bytes of a label value */
/* a plugin gone wild cannot make a scrape unbounded */
#define PS_METRIC_PER_ATTACHMENT_MAX	10000
#define PS_METRIC_TOP_DEFAULT		20

/*
 * Every string of a set is kept once (a scrape of 10k samples has a few
 * dozen names and helps): equal strings are one pointer.
 */
struct ps_strpool {
	char **slot;
	size_t cap, n;
};

struct ps_msample {
	const char *name;	/* without the pktscope_ prefix */
	const char *help;
	enum ps_metric_type type;
	double value;
	int att;		/* index in ps_mset.atts, -1: process-wide */
	size_t seq;		/* order of arrival, kept within a name */
	size_t nlabels, own;	/* labels[own..] are the plugin's */
	bool clash;		/* name taken with another type: left out */
	struct {
		const char *name, *value;
	} labels[PS_METRIC_LABELS_MAX];
};

struct ps_mset {
	struct ps_msample *v;
	size_t n, cap;
	struct ps_attachment *atts;
	size_t natts;
	size_t rejected;	/* samples a plugin gave that broke the rules */
	size_t failed;		/* metrics callbacks that returned an error */
	bool bpf_stats;		/* kernel.bpf_stats_enabled */
	bool warn;		/* say why a sample is left out */
	struct ps_strpool pool;	/* the strings of the samples */
};

int ps_metrics_collect(struct ps_ctx *ctx, const char *dev,
		       struct ps_mset *set);
int ps_metrics_add_build_info(struct ps_mset *set);
/* a process-wide sample (no attachment labels) */
int ps_metrics_add_process(struct ps_mset *set, const char *name,
			   enum ps_metric_type type, const char *help,
			   double value);
/* group by name (families), for the exposition */
void ps_metrics_sort(struct ps_mset *set);
int ps_metrics_expose(const struct ps_mset *set, FILE *f);
void ps_metrics_free(struct ps_mset *set);
const char *ps_metric_value_str(double v, char *buf, size_t len);

#endif
