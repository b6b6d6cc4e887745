/*
 * sd_notify(3) for tests, inside a busybox container (whose nc has no unix
 * datagrams): sends MESSAGE as one datagram to $NOTIFY_SOCKET. Built static
 * at test time (notify.test.ts).
 *   NOTIFY_SOCKET=/path sd-notify MESSAGE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path || argc != 2 || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    fprintf(stderr, "usage: NOTIFY_SOCKET=PATH sd-notify MESSAGE\n");
    return 2;
  }
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("sd-notify");
    return 1;
  }
  return 0;
}
