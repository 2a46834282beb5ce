/** A body as `Workspace.blob` returns it: its bytes, or who erased it and why. */
export type Body =
  | { hash: string; bytes: Uint8Array }
  | { hash: string; erased: { by: string; name: string; reason: string; at: string } };

/** How an erased body reads: `[erased by Ada: reason]`. */
export function erasedText(e: { name: string; reason: string }): string {
  return `[erased by ${e.name}: ${e.reason}]`;
}
