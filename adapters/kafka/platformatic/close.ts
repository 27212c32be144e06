/**
 * Closes a @platformatic/kafka client, forcing (its `close(true)` is typed to
 * return nothing: the promise form exists only without arguments). Errors are
 * dropped: a client being closed after a broker fault may fail to leave its
 * group, which then expires the member.
 */
export function closeForced(client: { close(force: boolean, callback: (error?: Error | null) => void): void }): Promise<void> {
  return new Promise((resolve) => client.close(true, () => resolve()));
}
