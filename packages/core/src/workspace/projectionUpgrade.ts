import { CONTEXT_PROJECTION_VERSION } from '../context/contextRows.js';
import { isBatonError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';

/**
 * Brings a store whose projection rows an older version wrote up to this code's shape, once,
 * on open: when the log holds events but not the marker row a bootstrap or
 * `rebuildProjections()` of this version writes, or an older version's marker (the composite context indexes, search texts,
 * cost and track-record rows), the projections are rebuilt from the log. Until then context
 * reads would take the older, slower path and track records would miss what came before.
 *
 * @remarks
 * The rebuild verifies every event and writes under the head check, so a process racing it
 * loses nothing. When it fails (a log that does not verify, a store refusing the write) open
 * still succeeds: the failure is logged, `verify()` reports, and a later open tries again.
 */
export async function upgradeProjections(
  store: Pick<Store, 'get'>,
  headSeq: number,
  rebuild: () => Promise<void>,
  logger: Logger,
): Promise<boolean> {
  if (headSeq === 0) return false;
  // No marker, or one of an older version. A marker of another shape was not written by any
  // version: it is left for verify() to report (context reads take the older path meanwhile).
  const marker = await store.get('meta', 'context');
  const version = (marker as { version?: unknown } | undefined)?.version;
  const older =
    marker === undefined || (typeof version === 'number' && version < CONTEXT_PROJECTION_VERSION);
  if (!older) return false;
  logger.info('Rebuilding the projections written by an older version of Baton (once).', {
    seq: headSeq,
  });
  try {
    await rebuild();
    return true;
  } catch (err) {
    if (!isBatonError(err)) throw err;
    logger.warn(
      'The projections written by an older version could not be rebuilt; reads stay correct but slower. Run workspace.verify(), then workspace.rebuildProjections().',
      { code: err.code, error: err.message },
    );
    return false;
  }
}
