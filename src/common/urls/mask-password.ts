/**
 * A connection URL as it may be shown (logs, startup errors): its password, in the user info or
 * as a `password` parameter, replaced by `***`. The rest stays, since the user, host, port and
 * database are what tell an operator which setting is wrong.
 *
 * ```ts
 * maskPassword('postgres://app:s3cret@db:5432/chat') // 'postgres://app:***@db:5432/chat'
 * ```
 */
export function maskPassword(url: string): string {
  return (
    url
      // The user info runs to the last `@`: a password may hold `@`, `#`, `?` or `/` unencoded,
      // and showing too little of a URL is the safe side of the mistake.
      .replace(
        /^([a-z][a-z0-9+.-]*:\/\/)(.*)@(?=[^@]*$)/i,
        (whole: string, scheme: string, userInfo: string) => {
          const colon = userInfo.indexOf(':');
          return colon === -1 ? whole : `${scheme}${userInfo.slice(0, colon)}:***@`;
        },
      )
      .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***')
  );
}
