# on the host, with the strict flags the tests use
cc -std=c99 -Wall -Wextra -Werror -pedantic -Wconversion -Ifw main.c -o main && ./main
