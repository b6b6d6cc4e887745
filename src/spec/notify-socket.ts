/**
 * Where the process finds the runtime's notify socket, as with runc: its
 * directory is bound at /run/notify. (A module of its own: start reads it
 * without loading the plan's code.)
 */
export const NOTIFY_SOCKET_IN_CONTAINER = '/run/notify/notify.sock';
