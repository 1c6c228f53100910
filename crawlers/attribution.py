"""Credit lines and boilerplate: what a block of an article says about where the text came from.

:func:`credit_of` recognises lines that credit another outlet ("The original source of this article
is South Front", "Originally published at …", "Source: …", "Quelle: …", "Источник: …") in English,
French, German, Spanish and Russian. :func:`boilerplate_of` labels the blocks a site adds around an
article (donation appeals, share prompts, copyright and fair-use notices, newsletter and membership
promotions, cookie notices) so they can be marked instead of dropped.

Patterns are anchored at the start of a short block: a sentence in the middle of a news story that
mentions PayPal or copyright is not boilerplate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CreditMatch", "boilerplate_of", "credit_of", "outlet_name", "stub_reason"]

# Where the outlet named after a credit phrase ends: a sentence end, a separator, or a date.
_OUTLET_END = re.compile(r"[.;|]\s|[.;|]$|\s[-–—]\s|\s(?:on|le|am|el|от)\s+(?:\d|\w+\s+\d)|\s\d{1,2}[./ ]|,\s")
_OUTLET_MAX_CHARS = 100

# (kind, pattern) pairs; every pattern is tried with re.IGNORECASE at the start of the block.
_CREDIT_PATTERNS: list[tuple[str, str]] = [
    # English
    ("original_source", r"the original source of this (?:article|post|story|report) is\s+"),
    ("original_source", r"original (?:source|article|story|post)\s*(?:[:\-–]|is|at|on|here)\s*"),
    ("first_published", r"(?:this (?:article|post|story|piece|report|essay|interview) )?(?:was )?"
                        r"(?:originally|first) (?:published|appeared|posted|ran)(?: (?:on|at|in|by))?\s+"),
    ("first_published", r"(?:this (?:article|post|story|piece) )?(?:first |originally )?appeared "
                        r"(?:first )?(?:on|in|at)\s+"),
    ("republished", r"(?:this (?:article|post|story|piece) )?(?:is |was )?(?:republished|reprinted|reposted|syndicated|"
                    r"cross-?posted)(?: with permission)?(?: (?:from|by|of|on|with permission (?:from|of)))\s+"),
    ("source", r"(?:source|sources|article source)\s*[:：]\s*"),
    ("via", r"via\s*[:：]\s*"),
    ("courtesy", r"(?:(?:published|reproduced|used) )?(?:by )?"
                 r"(?:courtesy of|with (?:kind )?permission (?:of|from))\s+"),
    ("original_source", r"read (?:the )?(?:original|full) (?:article|story|post|report) "
                        r"(?:at|on|in|here)\s*[:\-–]?\s*"),
    # French
    ("source", r"source\s*[:：]\s*"),
    ("first_published", r"(?:cet article a )?(?:été )?(?:d'abord|initialement|originellement|premièrement) "
                        r"(?:été )?(?:publié|paru)e?(?: (?:sur|dans|par|le site|chez))?\s+"),
    ("first_published", r"(?:cet )?(?:article )?(?:a )?(?:été )?(?:publié|paru)e? "
                        r"(?:initialement|originellement|d'abord|en premier) "
                        r"(?:sur|dans|par|chez)\s+"),
    ("original_source", r"(?:article|source|texte) original(?:e)?\s*(?:[:\-–]|publiée? (?:sur|dans|par))\s*"),
    ("republished", r"(?:republié|reproduit|repris)e? (?:avec (?:l'aimable )?autorisation )?(?:de|du|depuis|sur)\s+"),
    # German
    ("source", r"quelle\s*[:：]\s*"),
    ("first_published", r"(?:dieser (?:artikel|beitrag|text) )?(?:ist |erschien |wurde )?"
                        r"(?:zuerst|erstmals|ursprünglich) "
                        r"(?:erschienen|veröffentlicht|publiziert)?\s*(?:auf|in|bei|von|im)\s+"),
    ("first_published", r"erstveröffentlichung\s*(?:[:\-–]|auf|in|bei|im)\s*"),
    ("republished", r"(?:mit freundlicher genehmigung|nachdruck mit genehmigung) (?:von|des|der)\s+"),
    ("original_source", r"(?:original(?:artikel|beitrag|quelle))\s*(?:[:\-–]|auf|bei|in)\s*"),
    # Spanish
    ("source", r"fuente\s*[:：]\s*"),
    ("first_published", r"(?:este artículo )?(?:fue )?(?:publicado|aparecido|apareció) (?:originalmente|primero|"
                        r"por primera vez|inicialmente) (?:en|por)\s+"),
    ("first_published", r"(?:originalmente|publicado originalmente|inicialmente publicado) "
                        r"(?:publicado )?(?:en|por)\s+"),
    ("original_source", r"artículo original\s*(?:[:\-–]|en|de|publicado en)\s*"),
    ("republished", r"(?:republicado|reproducido) (?:con permiso )?(?:de|desde|por)\s+"),
    # Russian
    ("source", r"источник\s*[:：]\s*"),
    ("first_published", r"(?:(?:эта )?статья )?(?:была )?(?:впервые|первоначально|изначально) "
                        r"(?:опубликована|опубликовано|опубликован|вышла|появилась)\s*(?:на|в|во)\s+(?:сайте\s+)?"),
    ("original_source", r"(?:оригинал(?: статьи)?|первоисточник)\s*(?:[:\-–]|на|в)\s*"),
    ("republished", r"(?:перепечатано|перепечатка) (?:с|из|с разрешения)\s+"),
]  # fmt: skip

_CREDITS = [(kind, re.compile(r"^\W{0,3}" + pattern, re.IGNORECASE)) for kind, pattern in _CREDIT_PATTERNS]
_URL = re.compile(r"https?://[^\s<>\"'()]+[^\s<>\"'().,;:!?]")
_CREDIT_MAX_CHARS = 400


@dataclass(frozen=True)
class CreditMatch:
    """A credit line recognised in a block: what matched, and the outlet and URL named in the text."""

    kind: str
    outlet: str | None
    url: str | None


def credit_of(text: str) -> CreditMatch | None:
    """The credit a short line gives to another outlet, or None when it is not a credit line."""
    if len(text) > _CREDIT_MAX_CHARS:
        return None
    for kind, pattern in _CREDITS:
        found = pattern.match(text)
        if not found:
            continue
        rest = text[found.end() :].strip()
        url_match = _URL.search(rest)
        url = url_match.group(0) if url_match else None
        outlet = outlet_name(rest[: url_match.start()] if url_match else rest)
        if not outlet and not url:
            continue
        return CreditMatch(kind, outlet, url)
    return None


def outlet_name(text: str) -> str | None:
    """The outlet's name at the start of ``text``: up to a sentence end, a separator or a date."""
    end = _OUTLET_END.search(text)
    name = (text[: end.start()] if end else text).strip(" \t\"'“”«»„,:()[]-–—")
    return name if name and len(name) <= _OUTLET_MAX_CHARS else None


# (label, pattern, longest block it may match)
_BOILERPLATE_PATTERNS: list[tuple[str, str, int]] = [
    ("donation", r"^\W*(?:support|donate to|help|fund|back)\s+(?:\w+\s+){0,3}?"
                 r"(?:us|southfront|our (?:work|journalism|reporting)|independent (?:media|journalism))\b", 300),
    ("donation", r"^\W*(?:paypal|patreon|bitcoin|btc|eth|crypto|bank transfer|iban|subscribestar|"
                 r"buy me a coffee)\s*[:(]", 400),
    ("donation", r"^\W*(?:please )?(?:make a )?donat(?:e|ion)s?\b", 300),
    ("donation", r"^\W*support\s+[\w .'&-]{1,40}:\s*$", 60),
    ("donation", r"^\W*(?:soutenez|faites un don|unterstützen sie|spenden sie|jetzt spenden|apoya|haz una donación|"
                 r"поддержите|поддержать|пожертвова)", 300),
    ("share_prompt", r"^\W*(?:note to readers\s*:\s*)?please (?:click the )?share\b", 400),
    ("share_prompt", r"^\W*note to readers\s*:", 400),
    ("share_prompt", r"^\W*(?:share|forward) this (?:article|post|story|page)\b", 200),
    ("share_prompt", r"^\W*(?:like|liked|enjoy|enjoyed|love|loved) this (?:article|post|story|piece)\?", 200),
    ("share_prompt", r"^\W*(?:partagez cet article|teilen sie diesen artikel|comparte este artículo|"
                     r"поделитесь (?:этой )?(?:статьей|новостью))", 200),
    ("copyright", r"^\W*(?:copyright\b|©|\(c\)\s*\d{4}|all rights reserved)", 300),
    ("copyright", r"^\W*(?:tous droits réservés|alle rechte vorbehalten|todos los derechos reservados|"
                  r"все права защищены)", 300),
    ("disclaimer", r"^\W*disclaimer\s*[:\-–]", 2000),
    ("disclaimer", r"\bcontains copyrighted material\b.*\bfair use\b", 2000),
    ("disclaimer", r"^\W*the (?:views|opinions) expressed (?:in this article )?are (?:solely )?those of", 600),
    ("disclaimer", r"^\W*(?:for media inquiries|for publication of .{0,80}? articles)", 300),
    ("disclaimer", r"^\W*(?:avertissement|haftungsausschluss|descargo de responsabilidad|"
                   r"отказ от ответственности)\s*[:\-–]",
     2000),
    ("newsletter", r"^\W*(?:sign up|subscribe)\b.{0,60}\b(?:newsletter|briefing|inbox|mailing list|updates)\b", 300),
    ("newsletter", r"^\W*(?:get|receive) (?:our|the) .{0,40}(?:newsletter|in your inbox)", 300),
    # A short box whose call to sign up comes after a sentence of pitch.
    ("newsletter", r"[.!?]\s+(?:sign up|subscribe)\b.{0,80}\b(?:newsletter|inbox)\b", 300),
    ("promo", r"^\W*(?:become a (?:member|patron|subscriber)|follow us on|like us on|join us on|"
              r"comment on .{0,60} (?:facebook|twitter|telegram)|subscribe to our (?:telegram|youtube|channel))", 200),
    ("promo", r"^\W*follow\b.{0,80}\bon (?:facebook|twitter|instagram|telegram|youtube|linkedin|tiktok)\b", 200),
    ("promo", r"^\W*subscribe (?:to|now|today)\b", 200),
    # The article's staff credits, like its byline: who reported, wrote and edited it.
    ("byline", r"^\W*(?:(?:additional )?reporting|writing|editing|compiled|reported|written) by\b", 400),
    ("byline", r"^[\w .'-]{3,80} contributed (?:reporting|research|to this (?:report|article|story))\b", 200),
    ("cookie", r"^\W*(?:we use cookies|this (?:web)?site uses cookies|by continuing to (?:browse|use) this site)", 600),
]  # fmt: skip

_BOILERPLATE = [(label, re.compile(pattern, re.IGNORECASE | re.DOTALL), limit) for label, pattern, limit in
                _BOILERPLATE_PATTERNS]  # fmt: skip


def boilerplate_of(text: str) -> str | None:
    """The kind of site boilerplate a block is (e.g. "donation", "copyright"), or None for article text."""
    if credit_of(text) is not None:
        return "attribution"
    for label, pattern, limit in _BOILERPLATE:
        if len(text) <= limit and pattern.search(text):
            return label
    return None


# What a page that has no article says instead: checked only when the extracted text is short.
_STUBS: list[tuple[str, str]] = [
    ("paywall", r"\b(?:subscribe|subscription|sign in|log in|register)\b.{0,80}\b(?:to (?:continue|keep) reading|"
                r"to read (?:the|this) (?:full |whole |rest of the )?(?:article|story)|for full access|"
                r"to unlock)|\b(?:this (?:article|content|story) is (?:only )?(?:available )?(?:for|to) "
                r"(?:subscribers|members|premium))|\bsubscriber[- ]only\b|\bpremium (?:content|article)\b|"
                r"\babonnez-vous\b|\bréservé aux abonnés\b|\bnur für abonnenten\b|\bexclusivo para suscriptores\b|"
                r"\bдоступно только подписчикам\b"),
    ("cookie_wall", r"\b(?:accept|agree to|consent to) (?:all |our |the use of )?cookies\b|\bcookie (?:settings|"
                    r"preferences|consent)\b|\bwe (?:and our partners )?use cookies\b|\bprivacy choices\b"),
    ("js_required", r"\b(?:enable|turn on|activate) javascript\b|\bjavascript (?:is )?(?:required|disabled)\b|"
                    r"\byou need to enable javascript\b|\bbrowser (?:is )?not supported\b"),
    ("not_found", r"\b(?:404|page not found|not be found|no longer available|doesn't exist|does not exist|"
                  r"page introuvable|seite nicht gefunden|página no encontrada|страница не найдена)\b"),
]  # fmt: skip
_STUB_PATTERNS = [(reason, re.compile(pattern, re.IGNORECASE | re.DOTALL)) for reason, pattern in _STUBS]


def stub_reason(text: str) -> str | None:
    """Why a page with (almost) no article text has none: "paywall", "cookie_wall", "js_required", "not_found"."""
    for reason, pattern in _STUB_PATTERNS:
        if pattern.search(text):
            return reason
    return None
