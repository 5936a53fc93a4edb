// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A shared object without the descriptor: not a plugin. */
int not_a_plugin(void);

int not_a_plugin(void)
{
	return 42;
}
