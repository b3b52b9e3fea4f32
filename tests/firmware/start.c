/* Bare-metal start-up for the firmware tests under qemu-system-arm: vector table, .data and
 * .bss set-up, FPU enable on Cortex-M4, and ARM semihosting (open, write, close, exit). */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);
void Reset_Handler(void);

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_exit(int code)
{
    const uint32_t block[2] = {0x20026u, (uint32_t)code}; /* ADP_Stopped_ApplicationExit */
    (void)semihost(0x20, block);                           /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}

int sh_open(const char *path, int mode)
{
    size_t n = 0u;
    uint32_t block[3];
    while (path[n] != '\0') {
        n++;
    }
    block[0] = (uint32_t)path;
    block[1] = (uint32_t)mode;
    block[2] = (uint32_t)n;
    return semihost(0x01, block);
}

void sh_write(int fd, const void *data, size_t n)
{
    const uint32_t block[3] = {(uint32_t)fd, (uint32_t)data, (uint32_t)n};
    (void)semihost(0x05, block);
}

void sh_close(int fd)
{
    const uint32_t block[1] = {(uint32_t)fd};
    (void)semihost(0x02, block);
}

void Reset_Handler(void)
{
    uint32_t *s = _sidata;
    uint32_t *d = _sdata;
    while (d < _edata) {
        *d++ = *s++;
    }
    for (d = _sbss; d < _ebss; d++) {
        *d = 0u;
    }
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm__ volatile("dsb\n\tisb");
#endif
    sh_exit(main());
}

static void Fault_Handler(void)
{
    sh_exit(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)_estack, Reset_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0,
    Fault_Handler, Fault_Handler,
};
