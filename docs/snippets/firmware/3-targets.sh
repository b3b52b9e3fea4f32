# Cortex-M4 (hard float ABI) and Cortex-M0: tables in .rodata, one section each
for cpu in "-mcpu=cortex-m4 -mfloat-abi=hard" "-mcpu=cortex-m0"; do
  arm-none-eabi-gcc $cpu -mthumb -Os -std=c99 -Wall -Wextra -Werror -ffunction-sections \
      -fdata-sections -Ifw -c act.c -o act_arm.o
  arm-none-eabi-size -A act_arm.o | grep -E "rodata|text"
done
# AVR: ACTC_FLASH is PROGMEM, the tables stay in flash (.progmem.data), not in RAM
avr-gcc -mmcu=atmega328p -Os -std=c99 -Wall -Wextra -Werror -Ifw -c act.c -o act_avr.o
avr-size -A act_avr.o | grep -E "progmem|text|data"
# the manifest's storage figure is the bytes of the C tables
python3 -c "import json; [print(n, json.load(open(f'fw/{n}.json'))['storage']) for n in ('sigmoid', 'tanh_act')]"
