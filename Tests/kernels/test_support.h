/* Shared by the kernel test files: the pass/fail counters main() prints. */
#ifndef MLRC_TEST_SUPPORT_H
#define MLRC_TEST_SUPPORT_H
extern int passed, failed;
void test_q8_kernels(void);
#endif
