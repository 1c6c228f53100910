"""Every knob of the engine, in one frozen and validated settings object.

The values used are stored with each run. Signatures and band keys made under different
fingerprint settings are never compared: :meth:`Settings.fingerprint_key` names the settings that
change a signature, and the warehouse refuses to mix two keys.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from reuse.errors import SettingsError

__all__ = ["FINGERPRINT_FIELDS", "Settings"]

#: The settings that change a passage's signature or band keys.
FINGERPRINT_FIELDS = (
    "num_perm",
    "seed",
    "shingle_words",
    "shingle_chars",
    "window_tokens",
    "window_step",
    "min_tokens",
    "threshold",
    "false_positive_weight",
    "false_negative_weight",
)


@dataclass(frozen=True)
class Settings:
    """Settings of the reuse engine; every default is documented here.

    Fingerprints
        num_perm: MinHash permutations (datasketch's ``num_perm``). 192 leave room for 64 bands
            of 3 rows at the default threshold: a window pair at Jaccard 0.2 (a copy with every
            third word changed) becomes a candidate 40% of the time, against 29% with 128
            permutations in 42 bands; on PAN13's randomly obfuscated pairs that raises pair
            recall from 0.866 to 0.884. The standard error of a Jaccard estimate is about 0.035.
        seed: seed of the permutations (datasketch's ``seed``).
        shingle_words: words per shingle for text written with spaces. Word pairs keep a window
            of a copy with one word in four replaced or moved above the LSH threshold (on PAN13's
            randomly obfuscated copies, 93% of pairs keep such a window against 55% with 3-grams)
            while unrelated windows stay near 0.05.
        shingle_chars: characters per shingle for scripts written without spaces (Chinese,
            Japanese, Thai); a one-character edit keeps ~0.8 Jaccard with 3-grams.
        window_tokens, window_step: a paragraph longer than ``window_tokens`` tokens is also
            covered by windows of that many tokens every ``window_step`` tokens, so half a
            paragraph, or two paragraphs merged into one, is still found.
        min_tokens: passages with fewer tokens get no signature and never match.

    Key families (``reuse/engine/families.py`` gives the mechanism; 0 turns a family off). They
    add keys to ``band_keys`` beside the main bands and change no signature, so they are not
    fingerprint settings: keys made under other values never meet, which costs recall between
    documents stored under different values (a warehouse made before the families: its
    documents have none, and meet new ones through the main bands only, as before), never
    correctness, since every candidate is verified exactly.
        anchor_words, anchor_tokens: word ``anchor_words``-grams are winnowed so that any exact
            copy of ``anchor_tokens`` words or more shares an anchor key with its source, filed
            under the shortest passage holding it; 6-grams are rare outside a copy (the stock
            phrases of a language are shorter), and keep about one key for every three words.
        content_chars, content_bands, content_rows: content-word pairs (two consecutive words of
            ``content_chars`` characters or more once shorter words are dropped) are signed with
            the first ``content_bands * content_rows`` permutations and banded: a second,
            independent chance for an edited passage. Unrelated passages share almost no
            content-word pair, so 2 rows a band suffice where word pairs need 3: a copy with a
            third of its words replaced (Jaccard ~0.29) escapes the main bands with probability
            0.21 and these 32 bands with 0.06, both ~0.01 (16 bands: 0.25, both ~0.05). 32, not
            16, since the second stage made found pairs count: on PAN13 they find 0.86 of the
            translated pairs instead of 0.84 (plagdet 0.854 instead of 0.847, the whole corpus
            0.891 instead of 0.888) for 16 more keys a passage (the whole job 7% longer); 48
            gave 0.892 for 21%. At most ``num_perm // content_rows`` bands are made
            (:attr:`content_band_count`); documents stored under fewer keep theirs and meet new
            ones through them.
        word_bands, word_rows: the set of each passage's content words, whatever their order, is
            signed with the first ``word_bands * word_rows`` permutations and banded: a chance for
            a translated or paraphrased passage, which keeps many of its source's words but
            neither their order nor their pairs. Passages on one topic share content words too
            (Jaccard about 0.1), hence 4 rows a band: 32 bands find a passage with a third of its
            content words replaced (Jaccard 0.5) with probability 0.87 and a same-topic passage of
            Jaccard 0.1 with 0.003. At most ``num_perm // word_rows`` bands are made
            (:attr:`word_band_count`).

    Candidates (LSH)
        threshold: the Jaccard similarity the banding is tuned for.
        verify_containment: a candidate passage pair is verified when the exact share of either
            passage's shingles found in the other reaches this, and they share at least half of
            ``min_match_tokens`` shingles (or, whatever their shingles, when they share content
            words enough: ``reuse.engine.align.WORD_CONTAINMENT``). Below the threshold on purpose: the LSH proposes by
            Jaccard, but a window of an edited copy contains less of the other.
        max_key_versions: a band key proposes only the first this many versions holding it.
            Text on thousands of pages (a site's template, a disclaimer, wire copy) then links
            each new page to the earliest holders instead of every other holder: the candidate
            count grows with the pages, not with their square, and every copy still meets the
            first ones (as passim's and datatrove's frequency caps, but without dropping them).
        candidate_filter: before exact verification, drop a candidate pair whose containment,
            estimated from the two signatures (their share of equal values and the passages'
            sizes) even 2.5 standard errors high, stays under ``verify_containment``: the text
            of a stored document is then read and analysed again only when it may hold a copy.
        false_positive_weight, false_negative_weight: weights of datasketch's optimal banding;
            recall is worth more than precision here because every candidate is verified exactly.

    Verification and alignment
        min_match_tokens: a verified match covers at least this many tokens on each side.
        min_verbatim_tokens: a verbatim match (every token the same, in order) counts from this
            many tokens on each side (or ``min_match_tokens`` when that is fewer): ten words copied exactly are
            a quotation or a copied line, where ten words merely alike are two texts on one
            topic. Between unrelated texts an exact run this long is a stock phrase or a
            template line, which lineage's boilerplate rule already sets apart.
        min_edited_tokens: an edited match (under 80% of its tokens in the same order) and a
            fragment of the second stage (``reuse/engine/seeds.py``) cover at least this many on
            each side: a short span sharing only some words, or two short sentences saying the
            same, is as often two texts on one topic as a copy. Twice the default
            ``min_match_tokens`` (two sentences of a dozen words), independent of it so the
            verbatim floor can go lower without letting short edited spans in.
        min_similarity: a match whose aligned token similarity falls below this is dropped.
        max_gap_tokens: hits closer than this on both sides are merged into one match, and so
            are a rewritten match and the next one (``reuse.engine.align.rewrites_joined``).

    Lineage
        boilerplate_docs, boilerplate_share: a block of text (normalised, digits folded) found in
            at least ``boilerplate_docs`` different articles of one site is that site's boilerplate
            (its template: menus, appeals, disclaimers) and never evidence of reuse. Twins count
            as one article: two documents of a site each sharing at least ``boilerplate_share`` of
            its text with the other, each block weighed by its length over the number of the site's documents holding
            it, are one article held twice (an AMP or print version, one article at two URLs). A
            site with fewer articles learns no template: a small crawl's few pages, or an article
            and its twin, would otherwise make the text they share, a copy included, the site's
            template.
        min_evidence_chars: two documents of different sites are related (a candidate reuse edge)
            when they share at least this many characters outside boilerplate on both sides: about
            one sentence, so a shared name or stock phrase is not a story.
        upstream_window_minutes: two documents published within this many minutes of each other
            (both times known to the minute, not date-only), neither crediting the other, cannot
            have copied each other: both hang from an unseen upstream source instead.
        upstream_containment: a pair's shared text is explained by an earlier third document when
            at least this share of it, on both sides, is also what each shares with the third.
    """

    num_perm: int = 192
    seed: int = 1
    shingle_words: int = 2
    shingle_chars: int = 3
    window_tokens: int = 40
    window_step: int = 10
    min_tokens: int = 8
    anchor_words: int = 6
    anchor_tokens: int = 10
    content_chars: int = 4
    content_bands: int = 32
    content_rows: int = 2
    word_bands: int = 32
    word_rows: int = 4
    threshold: float = 0.3
    verify_containment: float = 0.2
    max_key_versions: int = 20
    candidate_filter: bool = True
    false_positive_weight: float = 0.2
    false_negative_weight: float = 0.8
    min_match_tokens: int = 12
    min_verbatim_tokens: int = 10
    min_similarity: float = 0.5
    max_gap_tokens: int = 40
    min_edited_tokens: int = 24
    boilerplate_docs: int = 5
    boilerplate_share: float = 0.5
    min_evidence_chars: int = 100
    upstream_window_minutes: int = 10
    upstream_containment: float = 0.8

    def __post_init__(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise SettingsError(message)

        need(16 <= self.num_perm <= 1024, f"num_perm must be between 16 and 1024, got {self.num_perm}")
        need(0 <= self.seed < 2**32, f"seed must be an integer in [0, 2^32), got {self.seed}")
        need(1 <= self.shingle_words <= 10, f"shingle_words must be 1-10, got {self.shingle_words}")
        need(1 <= self.shingle_chars <= 10, f"shingle_chars must be 1-10, got {self.shingle_chars}")
        need(
            self.min_tokens >= max(self.shingle_words, self.shingle_chars),
            f"min_tokens ({self.min_tokens}) must be at least the shingle size "
            f"({max(self.shingle_words, self.shingle_chars)}): shorter passages have no shingle",
        )
        need(
            self.window_tokens >= 2 * self.min_tokens,
            f"window_tokens ({self.window_tokens}) must be at least 2 x min_tokens ({self.min_tokens})",
        )
        need(
            0 < self.window_step <= self.window_tokens,
            f"window_step must be in 1..window_tokens ({self.window_tokens}), got {self.window_step}",
        )
        need(0.0 < self.threshold < 1.0, f"threshold must be strictly between 0 and 1, got {self.threshold}")
        need(
            0.0 < self.verify_containment <= 1.0,
            f"verify_containment must be in (0, 1], got {self.verify_containment}",
        )
        need(
            self.false_positive_weight >= 0
            and self.false_negative_weight >= 0
            and abs(self.false_positive_weight + self.false_negative_weight - 1.0) < 1e-9,
            "false_positive_weight and false_negative_weight must be non-negative and sum to 1",
        )
        need(
            self.anchor_words == 0 or 2 <= self.anchor_words <= self.anchor_tokens,
            f"anchor_words ({self.anchor_words}) must be 0, or from 2 to anchor_tokens ({self.anchor_tokens})",
        )
        need(self.content_chars >= 0, f"content_chars must be >= 0, got {self.content_chars}")
        need(
            1 <= self.content_rows <= self.num_perm and self.content_bands >= 0,
            f"content_rows must be in 1..num_perm ({self.num_perm}) and content_bands >= 0, "
            f"got {self.content_rows} and {self.content_bands}",
        )
        need(
            1 <= self.word_rows <= self.num_perm and self.word_bands >= 0,
            f"word_rows must be in 1..num_perm ({self.num_perm}) and word_bands >= 0, "
            f"got {self.word_rows} and {self.word_bands}",
        )
        need(self.max_key_versions >= 1, f"max_key_versions must be positive, got {self.max_key_versions}")
        need(self.min_match_tokens >= 1, f"min_match_tokens must be positive, got {self.min_match_tokens}")
        need(self.min_verbatim_tokens >= 1, f"min_verbatim_tokens must be positive, got {self.min_verbatim_tokens}")
        need(0.0 <= self.min_similarity <= 1.0, f"min_similarity must be in [0, 1], got {self.min_similarity}")
        need(self.max_gap_tokens >= 0, f"max_gap_tokens must be >= 0, got {self.max_gap_tokens}")
        need(self.min_edited_tokens >= 1, f"min_edited_tokens must be positive, got {self.min_edited_tokens}")
        need(self.boilerplate_docs >= 2, f"boilerplate_docs must be >= 2, got {self.boilerplate_docs}")
        need(
            0.0 < self.boilerplate_share <= 1.0,
            f"boilerplate_share must be in (0, 1], got {self.boilerplate_share}",
        )
        need(self.min_evidence_chars >= 1, f"min_evidence_chars must be positive, got {self.min_evidence_chars}")
        need(
            self.upstream_window_minutes >= 0,
            f"upstream_window_minutes must be >= 0, got {self.upstream_window_minutes}",
        )
        need(
            0.0 < self.upstream_containment <= 1.0,
            f"upstream_containment must be in (0, 1], got {self.upstream_containment}",
        )

    @property
    def content_band_count(self) -> int:
        """The content bands made: ``content_bands``, as many as the permutations allow."""
        return min(self.content_bands, self.num_perm // self.content_rows)

    @property
    def word_band_count(self) -> int:
        """The word bands made: ``word_bands``, as many as the permutations allow."""
        return min(self.word_bands, self.num_perm // self.word_rows)

    def to_dict(self) -> dict[str, Any]:
        """All settings as a JSON-ready dict (stored with each run)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Settings:
        """Settings from a dict such as :meth:`to_dict` wrote; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)

    def fingerprint_key(self) -> str:
        """A short digest of the settings that change signatures and band keys."""
        payload = json.dumps({name: getattr(self, name) for name in FINGERPRINT_FIELDS}, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
