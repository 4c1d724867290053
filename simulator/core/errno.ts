// Linux errno values the simulator returns (include/uapi/asm-generic/errno-base.h, errno.h).
export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EIO: 5, ENXIO: 6, E2BIG: 7, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EEXIST: 17,
  ENODEV: 19, EINVAL: 22, ENOSPC: 28, EDOM: 33, ERANGE: 34, ENOSYS: 38, EOVERFLOW: 75, EOPNOTSUPP: 95, ETIMEDOUT: 110,
} as const;
export type ErrnoName = keyof typeof ERRNO;

/** Result strings as the report shows them: "-EINVAL". */
export type ErrnoResult = `-${ErrnoName}`;

export function errnoResult(name: ErrnoName): ErrnoResult {
  return `-${name}`;
}

export function isErrnoResult(v: unknown): v is ErrnoResult {
  return typeof v === 'string' && v.startsWith('-E') && (v.slice(1) in ERRNO);
}

/** -22 -> "-EINVAL" */
export function errnoFromNumber(n: number): ErrnoResult | undefined {
  for (const [k, v] of Object.entries(ERRNO)) if (v === -n) return `-${k}` as ErrnoResult;
  return undefined;
}
