/* Deliberate faults, to check that the exception report and the failure exit work. */
#ifndef KERNEL_CRASHTEST_H
#define KERNEL_CRASHTEST_H

/* Runs the fault named kind (see cmdline.h). Returns only when kind is unknown. */
void crashtest_run(const char *kind);

#endif /* KERNEL_CRASHTEST_H */
