"""The bot's own phrases: one catalogue per language (Albanian ``sq``, English ``en``).

Topic names (``topic_<category>``) label the FAQ categories; a category
without one is shown by its name.

Phrases are written in the small HTML subset that both renderers understand
(``<b>``, ``<i>``): Telegram shows it with its HTML parse mode, the terminal
chat strips it. Values put into a phrase come from people or data files, so
:func:`say` escapes them; the phrases themselves are trusted.
"""

from __future__ import annotations

import html
from typing import Any

LANGUAGES = ("sq", "en")
DEFAULT_LANGUAGE = "sq"
# Each language by its own name (for the /lang buttons).
LANGUAGE_NAMES = {"sq": "Shqip", "en": "English"}

SQ: dict[str, str] = {
    "start": (
        "Përshëndetje{name}! Jam asistenti virtual i agjencisë: <b>{agency}</b>.\n\n"
        "Më shkruani pyetjen tuaj për regjistrimin dhe jetën e një organizate "
        "jofitimprurëse, ose emrin e një organizate për ta kërkuar në regjistër. "
        "Mund të shkruani edhe pa ë dhe ç.\n\n"
        "Zgjidhni një temë më poshtë, ose shikoni /help."
    ),
    "help": (
        "<b>Si t'ju ndihmoj</b>\n"
        "• Shkruani pyetjen tuaj me fjalët tuaja.\n"
        "• Shkruani emrin e një organizate për të parë nëse është e regjistruar.\n\n"
        "/faq - pyetjet e shpeshta sipas temave\n"
        "/search EMRI - kërko një organizatë në regjistër\n"
        "/lang - ndrysho gjuhën (shqip / English)\n"
        "/contact - kontaktet e agjencisë"
    ),
    "contact": (
        "<b>{agency}</b>\n"
        "Adresa: {address}\n"
        "Telefon: {phone}\n"
        "E-mail: {email}\n"
        "Faqja: {website}"
    ),
    "lang_choose": "Zgjidhni gjuhën / Choose your language:",
    "lang_set": "Gjuha u ndryshua: shqip.",
    "topics": "Zgjidhni një temë:",
    "topics_empty": ("Pyetjet e shpeshta nuk janë ende gati. "
                     "Provoni më vonë ose na kontaktoni: /contact"),
    "topic_questions": "<b>{topic}</b>\nZgjidhni një pyetje:",
    "back_to_topics": "« Temat",
    "topic_agency": "Agjencia (AMShC)",
    "topic_registration": "Regjistrimi",
    "topic_running-an-ngo": "Drejtimi i një OJF-je",
    "topic_grants": "Grantet dhe thirrjet",
    "topic_database": "Databaza e OJF-ve",
    "topic_cooperation": "Bashkëpunimi",
    "topic_policy": "Politikat dhe ligjet",
    "topic_capacity-building": "Trajnimet",
    "topic_communication": "Komunikimi",
    "helpful": "A ju ndihmoi kjo përgjigje?",
    "suggest": "Mos keni parasysh një nga këto?",
    "none_of_these": "Asnjë nga këto: pyet stafin",
    "escalate": (
        "Nuk gjeta një përgjigje të sigurt për pyetjen tuaj. "
        "Dërgimi i pyetjeve te stafi nga boti nuk është ende i mundur; "
        "ju lutemi kontaktoni drejtpërdrejt agjencinë:\n\n{contact}"
    ),
    "feedback_thanks": "Faleminderit për vlerësimin!",
    "feedback_sorry": "Më vjen keq që nuk ju ndihmoi.",
    "org_card": (
        "<b>{name}</b>\n"
        "NIPT: {nipt}\n"
        "Forma ligjore: {legal_form}\n"
        "Qyteti: {city}\n"
        "Adresa: {address}\n"
        "Telefon: {phone}\n"
        "E-mail: {email}\n"
        "Statusi: {status}\n"
        "Data e regjistrimit: {registered_on}"
    ),
    "org_candidates": "Gjeta disa organizata që i ngjajnë «{query}». Cila prej tyre?",
    "org_not_found": (
        "Asnjë organizatë e regjistruar nuk përputhet me «{query}».\n"
        "Kontrolloni drejtshkrimin ose provoni me NIPT-in. Për një verifikim zyrtar, "
        "kontaktoni agjencinë:\n\n{contact}"
    ),
    "search_usage": ("Shkruani emrin ose NIPT-in pas komandës, "
                     "p.sh. <i>/search Partners Albania</i>"),
    "unknown": "—",
    "greeting": "Përshëndetje! Si mund t'ju ndihmoj? Shkruani pyetjen tuaj ose shikoni /faq.",
    "thanks": "Ju lutem! Nëse keni një pyetje tjetër, më shkruani.",
    "write_text": "Mund të lexoj vetëm tekst. Ju lutemi shkruani pyetjen tuaj.",
    "unknown_command": "Nuk e njoh këtë komandë.",
    "button_expired": "Ky buton nuk është më i vlefshëm.",
    "error": "Më vjen keq, diçka shkoi keq. Ju lutemi provoni përsëri pak më vonë.",
    "cmd_start": "Fillimi dhe temat",
    "cmd_help": "Si të përdorni botin",
    "cmd_faq": "Pyetjet e shpeshta sipas temave",
    "cmd_search": "Kërko një organizatë në regjistër",
    "cmd_lang": "Ndrysho gjuhën",
    "cmd_contact": "Kontaktet e agjencisë",
}

EN: dict[str, str] = {
    "start": (
        "Hello{name}! I am the virtual assistant of the agency: <b>{agency}</b>.\n\n"
        "Write me your question about registering and running a non-profit "
        "organisation, or the name of an organisation to look it up in the registry.\n\n"
        "Pick a topic below, or see /help."
    ),
    "help": (
        "<b>How I can help</b>\n"
        "• Write your question in your own words.\n"
        "• Write the name of an organisation to see whether it is registered.\n\n"
        "/faq - frequently asked questions by topic\n"
        "/search NAME - look an organisation up in the registry\n"
        "/lang - change the language (shqip / English)\n"
        "/contact - the agency's contacts"
    ),
    "contact": (
        "<b>{agency}</b>\n"
        "Address: {address}\n"
        "Phone: {phone}\n"
        "E-mail: {email}\n"
        "Website: {website}"
    ),
    "lang_choose": "Zgjidhni gjuhën / Choose your language:",
    "lang_set": "Language changed: English.",
    "topics": "Choose a topic:",
    "topics_empty": "The FAQ is not ready yet. Please try later or contact us: /contact",
    "topic_questions": "<b>{topic}</b>\nChoose a question:",
    "back_to_topics": "« Topics",
    "topic_agency": "The agency (ASCS)",
    "topic_registration": "Registration",
    "topic_running-an-ngo": "Running an NGO",
    "topic_grants": "Grants and calls",
    "topic_database": "The NGO database",
    "topic_cooperation": "Cooperation",
    "topic_policy": "Policy and law",
    "topic_capacity-building": "Training",
    "topic_communication": "Communication",
    "helpful": "Was this helpful?",
    "suggest": "Did you mean one of these?",
    "none_of_these": "None of these: ask the staff",
    "escalate": (
        "I could not find a reliable answer to your question. "
        "Sending questions to the staff from the bot is not available yet; "
        "please contact the agency directly:\n\n{contact}"
    ),
    "feedback_thanks": "Thank you for your feedback!",
    "feedback_sorry": "I am sorry that did not help.",
    "org_card": (
        "<b>{name}</b>\n"
        "NIPT: {nipt}\n"
        "Legal form: {legal_form}\n"
        "City: {city}\n"
        "Address: {address}\n"
        "Phone: {phone}\n"
        "E-mail: {email}\n"
        "Status: {status}\n"
        "Registered on: {registered_on}"
    ),
    "org_candidates": "I found several organisations like “{query}”. Which one?",
    "org_not_found": (
        "No registered organisation matches “{query}”.\n"
        "Check the spelling or try the NIPT. For an official check, "
        "contact the agency:\n\n{contact}"
    ),
    "search_usage": ("Write the name or the NIPT after the command, "
                     "e.g. <i>/search Partners Albania</i>"),
    "unknown": "—",
    "greeting": "Hello! How can I help? Write your question or see /faq.",
    "thanks": "You are welcome! If you have another question, just write it.",
    "write_text": "I can only read text. Please write your question.",
    "unknown_command": "I do not know that command.",
    "button_expired": "This button is no longer valid.",
    "error": "Sorry, something went wrong. Please try again a little later.",
    "cmd_start": "Start and topics",
    "cmd_help": "How to use the bot",
    "cmd_faq": "Frequently asked questions by topic",
    "cmd_search": "Look an organisation up in the registry",
    "cmd_lang": "Change the language",
    "cmd_contact": "The agency's contacts",
}

CATALOGUE: dict[str, dict[str, str]] = {"sq": SQ, "en": EN}


def language(code: str | None) -> str:
    """The supported language for a code such as ``en-GB``; Albanian otherwise."""
    base = (code or "").split("-")[0].split("_")[0].lower()
    return base if base in CATALOGUE else DEFAULT_LANGUAGE


class Html(str):
    """Text that is already HTML (a rendered phrase): :func:`say` does not escape it again."""


def escape(value: Any) -> Html:
    """``value`` as text safe to put into HTML."""
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=False))


def say(lang: str, key: str, **values: Any) -> Html:
    """The phrase ``key`` in ``lang`` with ``values`` HTML-escaped into it."""
    template = CATALOGUE[language(lang)][key]
    return Html(template.format(**{k: escape(v) for k, v in values.items()}))


def raw(lang: str, key: str) -> str:
    """The phrase ``key`` in ``lang`` without substitutions (for plain-text uses)."""
    return CATALOGUE[language(lang)][key]
