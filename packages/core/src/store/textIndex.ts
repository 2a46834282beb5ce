/**
 * How `Store.search` compares text: the row's text and the needle are both lower-cased
 * (`String.prototype.toLowerCase`, the same everywhere, whatever the locale); the needle
 * must then be a substring. Stores fold with this one function so they agree.
 */
export function foldText(text: string): string {
  return text.toLowerCase();
}

/** Needles shorter than this have no trigram: a store checks texts one by one for them. */
export const MIN_INDEXED_NEEDLE = 3;

/** The distinct trigrams (runs of three UTF-16 code units) of folded text `s`. */
function trigrams(s: string): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 3 <= s.length; i++) out.add(s.slice(i, i + 3));
  return out;
}

/** One collection's texts and their postings. */
interface CollectionText {
  /** Folded text by row key. */
  texts: Map<string, string>;
  /** Row keys by trigram. */
  postings: Map<string, Set<string>>;
}

/**
 * A trigram index over rows' texts: what `MemoryStore.search` finds rows by. `put` replaces a
 * row's text, `delete` drops it; {@link TextIndex.matches} gives the row keys whose folded
 * text contains a folded needle, checking only rows that hold the needle's rarest trigram.
 */
export class TextIndex {
  readonly #collections = new Map<string, CollectionText>();

  /** Sets the text of `collection`/`key` (`undefined` removes it). */
  put(collection: string, key: string, text: string | undefined): void {
    this.delete(collection, key);
    if (text === undefined) return;
    let c = this.#collections.get(collection);
    if (!c) {
      c = { texts: new Map(), postings: new Map() };
      this.#collections.set(collection, c);
    }
    const folded = foldText(text);
    c.texts.set(key, folded);
    for (const t of trigrams(folded)) {
      let keys = c.postings.get(t);
      if (!keys) {
        keys = new Set();
        c.postings.set(t, keys);
      }
      keys.add(key);
    }
  }

  /** Removes the text of `collection`/`key`, if it has one. */
  delete(collection: string, key: string): void {
    const c = this.#collections.get(collection);
    const old = c?.texts.get(key);
    if (!c || old === undefined) return;
    c.texts.delete(key);
    for (const t of trigrams(old)) {
      const keys = c.postings.get(t)!;
      keys.delete(key);
      if (keys.size === 0) c.postings.delete(t);
    }
  }

  /**
   * The row keys of `collection` whose text contains `needle` (folded here), unordered. For a
   * needle of {@link MIN_INDEXED_NEEDLE} or more code units, only the rows listed under its
   * rarest trigram are checked; a shorter one checks every text of the collection.
   */
  matches(collection: string, needle: string): string[] {
    const c = this.#collections.get(collection);
    if (!c) return [];
    const n = foldText(needle);
    let candidates: Iterable<string> = c.texts.keys();
    if (n.length >= MIN_INDEXED_NEEDLE) {
      let rarest: Set<string> | undefined;
      for (const t of trigrams(n)) {
        const keys = c.postings.get(t);
        if (!keys) return [];
        if (!rarest || keys.size < rarest.size) rarest = keys;
      }
      candidates = rarest!;
    }
    const out: string[] = [];
    for (const key of candidates) if (c.texts.get(key)!.includes(n)) out.push(key);
    return out;
  }
}
