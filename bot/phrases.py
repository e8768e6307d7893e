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
import re
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
        "{ask}"
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
    "none_of_these_direct": "Asnjë nga këto",
    "help_ask": "/ask PYETJA - dërgoja pyetjen stafit të agjencisë\n",
    "escalate_after": "Ju lutemi kontaktoni drejtpërdrejt agjencinë:\n\n{contact}",
    "also_asked": "Pyetët edhe për këtë:",
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
    "org_candidate": "Gjeta një organizatë që i ngjan «{query}». A është kjo?",
    "org_closest": "Përputhja më e afërt për «{query}»:",
    "org_demo": ("⚠️ <b>Të dhëna demo</b>: kjo organizatë është e shpikur (regjistri shembull "
                 "që vjen me botin), jo një organizatë e regjistruar."),
    "org_nipt_not_found": (
        "Asnjë organizatë me NIPT {nipt} nuk është në regjistër.\n"
        "Kontrolloni numrin (një shkronjë, 8 shifra, një shkronjë) ose provoni me emrin. "
        "Për një verifikim zyrtar, kontaktoni agjencinë:\n\n{contact}"
    ),
    "org_not_found": (
        "Asnjë organizatë e regjistruar nuk përputhet me «{query}».\n"
        "Kontrolloni drejtshkrimin ose provoni me NIPT-in. Për një verifikim zyrtar, "
        "kontaktoni agjencinë:\n\n{contact}"
    ),
    "search_usage": ("Shkruani emrin ose NIPT-in pas komandës, "
                     "p.sh. <i>/search {example}</i>"),
    "unknown": "—",
    # The registry's values, as the registry writes them (keys: folded).
    "registry_value_aktive": "aktive",
    "registry_value_pezulluar": "pezulluar",
    "registry_value_cregjistruar": "çregjistruar",
    "registry_value_shoqate": "Shoqatë",
    "registry_value_qender": "Qendër",
    "registry_value_fondacion": "Fondacion",
    "greeting": "Përshëndetje! Si mund t'ju ndihmoj? Shkruani pyetjen tuaj ose shikoni /faq.",
    "here": "Jam këtu. Shkruani pyetjen tuaj, ose shikoni /faq.",
    "thanks": "Ju lutem! Nëse keni një pyetje tjetër, më shkruani.",
    "write_text": "Mund të lexoj vetëm tekst. Ju lutemi shkruani pyetjen tuaj.",
    "unknown_command": "Nuk e njoh këtë komandë.",
    "button_expired": "Ky buton nuk është më i vlefshëm.",
    "error": "Më vjen keq, diçka shkoi keq. Ju lutemi provoni përsëri pak më vonë.",
    "set_aside": ("Më vjen keq: ky mesazh e ndaloi robotin sa herë që u përpoq ta "
                  "lexonte, ndaj e lashë mënjanë pa e trajtuar. Ju lutem shkruajeni përsëri "
                  "me fjalë të tjera; për ndihmë nga stafi, përdorni /contact."),
    "set_aside_group": ("Më vjen keq: ky mesazh e ndaloi robotin sa herë që u përpoq ta "
                        "lexonte, ndaj e lashë mënjanë pa e trajtuar. Ju lutem shkruajeni "
                        "përsëri me fjalë të tjera."),
    "flood": ("Po më shkruani shumë shpejt: lexoj deri në {per_minute} mesazhe në minutë. "
              "Mesazhet e tjera të këtij minuti nuk i lexova; ju lutem më shkruani përsëri "
              "pas pak."),
    "escalate_staff": (
        "Nuk gjeta një përgjigje të sigurt për pyetjen tuaj. "
        "Dëshironi ta dërgoj te stafi i agjencisë? Përgjigja do t'ju vijë këtu, në këtë bisedë.\n\n"
        "Ose kontaktoni drejtpërdrejt agjencinë:\n\n{contact}"
    ),
    "escalate_staff_after": (
        "Dëshironi ta dërgoj pyetjen tuaj te stafi i agjencisë? Përgjigja do t'ju vijë këtu, "
        "në këtë bisedë.\n\nOse kontaktoni drejtpërdrejt agjencinë:\n\n{contact}"
    ),
    "escalate_private_after": (
        "Për ta dërguar pyetjen tuaj te stafi i agjencisë, më shkruani në një bisedë private."
        "\n\nOse kontaktoni drejtpërdrejt agjencinë:\n\n{contact}"),
    "ask_staff_button": "Dërgoja stafit",
    "ask_usage": ("Shkruani pyetjen pas komandës, p.sh. <i>/ask Si e ndryshoj adresën "
                  "e shoqatës?</i> Stafi do t'ju përgjigjet këtu."),
    "ticket_opened": (
        "Pyetja juaj iu dërgua stafit. Numri i biletës: <b>#{number}</b>.\n"
        "Përgjigja do t'ju vijë këtu. Çfarë shkruani tani e tutje shkon te e njëjta biletë, "
        "derisa ta mbyllni."
    ),
    "ticket_follow_up": "U shtua te bileta #{number}.",
    "ticket_answer": "💬 <b>Përgjigje nga stafi</b> (bileta #{number}):\n\n{text}",
    "ticket_close_button": "Mbyll biletën",
    "ticket_closed": ("Bileta #{number} u mbyll. Faleminderit! "
                      "Mund të më shkruani sërish kur të doni."),
    "ticket_closed_by_staff": ("Stafi e mbylli biletën #{number}. "
                               "Mund të më shkruani sërish kur të doni."),
    "ticket_reopened": "Stafi e rihapi biletën #{number}: mesazhet tuaja shkojnë sërish te ajo.",
    "ticket_reopened_elsewhere": ("Stafi e rihapi biletën #{number}. Çfarë shkruani shkon te "
                                  "bileta #{other}, e cila është ende e hapur."),
    "ticket_too_many": ("Keni dërguar shumë pyetje stafit në orën e fundit. "
                        "Ju lutemi prisni pak dhe provoni sërish, "
                        "ose kontaktoni agjencinë:\n\n{contact}"),
    "ticket_refused": ("Nuk mund t'i dërgoj pyetje stafit nga kjo llogari. "
                       "Ju lutemi kontaktoni agjencinë:\n\n{contact}"),
    "ticket_private_only": "Për t'i shkruar stafit, më shkruani në një bisedë private.",
    "escalate_private": (
        "Nuk gjeta një përgjigje të sigurt për pyetjen tuaj. "
        "Për ta dërguar te stafi i agjencisë, më shkruani në një bisedë private.\n\n"
        "Ose kontaktoni drejtpërdrejt agjencinë:\n\n{contact}"),
    "status_open": "e hapur",
    "status_answered": "e përgjigjur",
    "status_closed": "e mbyllur",
    "ticket_topic": "#{number} {name}",
    "staff_alias": "Pyetësi #{number}",
    "staff_card": (
        "🎫 <b>Bileta #{number}</b> · {status}\n"
        "Nga: {who}\n"
        "Gjuha: {language}\n\n"
        "<b>Pyetja:</b>\n{question}\n\n"
        "<b>Hamendjet e botit:</b>\n{guesses}{claimed}\n\n"
        "<i>Përgjigjuni këtij mesazhi për t'i shkruar personit.</i>"
    ),
    "staff_guess": "• {question} ({score})",
    "staff_no_guesses": "—",
    "staff_card_claimed": "\n\n👤 E mori: <b>{name}</b>",
    "staff_claim_button": "Merre",
    "staff_close_button": "Mbyll",
    "staff_faq_button": "Shto te FAQ",
    "staff_sent": "✓ U dërgua te personi (bileta #{number}).",
    "staff_edit_not_sent": ("Ndryshimi i përgjigjes nuk i shkon personit (bileta #{number}): "
                            "dërgojeni korrigjimin si përgjigje të re."),
    "staff_already_sent": "Kjo përgjigje është dërguar tashmë (bileta #{number}).",
    "staff_claimed": "Bileta #{number} u mor nga {name}.",
    "staff_closed": "Bileta #{number} u mbyll nga {name}.",
    "staff_closed_by_person": "Personi e mbylli biletën #{number}.",
    "staff_reopened": "Bileta #{number} u rihap.",
    "staff_reopened_elsewhere": ("Bileta #{number} u rihap. Personi ka edhe biletën #{other} të "
                                 "hapur: çfarë shkruan shkon te ajo."),
    "staff_reopen_banned": ("Bileta #{number} nuk u rihap: personi i saj është i bllokuar. "
                            "Zhbllokojeni më parë me /unban #{number}."),
    "staff_is_closed": "Bileta #{number} është e mbyllur; rihapeni me /reopen {number}.",
    "staff_not_closed": "Bileta #{number} nuk është e mbyllur.",
    "staff_no_such_ticket": "Nuk ka biletë #{number}.",
    "staff_no_answer_yet": "Bileta #{number} nuk ka ende përgjigje nga stafi.",
    "staff_suggested": "Pyetja dhe përgjigja e biletës #{number} u ruajtën si sugjerim për FAQ.",
    "staff_already_suggested": "Bileta #{number} është sugjeruar tashmë për FAQ.",
    "staff_banned": "{who} u bllokua: nuk mund të hapë më bileta.",
    "staff_the_person": "Personi",
    "staff_pseudonym": "Ish-punonjës {number}",
    "staff_card_forgotten": "🎫 Bileta #{number}: personi kërkoi që të dhënat e tij të fshihen.",
    "staff_copy_forgotten": "🗑 Mesazhi u fshi me kërkesë të personit.",
    "staff_unbanned": "{who} u zhbllokua.",
    "staff_not_banned": "{who} nuk është i bllokuar.",
    "staff_none_open": "Nuk ka bileta të hapura.",
    "staff_open_header": "<b>Bileta të hapura: {count}</b> (më e vjetra e para)",
    "staff_open_line": "#{number} · {age} · {status} · {claimed} · {question}",
    "staff_unclaimed": "pa marrë",
    "staff_reminder": "⏰ Bileta #{number} pret prej {age} ({claimed}).",
    "staff_usage": ("Përdorimi: /close N, /reopen N, /open, /ban ID ose /ban #N, "
                    "/unban ID ose /unban #N"),
    "staff_not_a_user_id": ("«{given}» nuk është ID e një personi në Telegram: ajo është një "
                            "numër i plotë mbi 0, p.sh. 123456789 (ID e një grupi është "
                            "negative). Shkruani /{command} ID ose /{command} #N (personi i "
                            "biletës N)."),
    "staff_not_allowed": "Vetëm stafi mund ta bëjë këtë.",
    "staff_unknown_command": ("Nuk u dërgua te personi (bileta #{number}): {command} nuk është "
                              "komandë e stafit. Për ta dërguar siç është, fillojeni me një "
                              "shenjë tjetër, p.sh. një hapësirë para „/”."),
    "staff_undeliverable": "⚠️ Përgjigja nuk arriti te personi (bileta #{number}): {why}.",
    "staff_undelivered_blocked": "personi e ka bllokuar botin",
    "staff_undelivered_deactivated": "llogaria e personit në Telegram është fshirë",
    "staff_undelivered_no_chat": ("Telegram nuk e gjen bisedën me personin (llogaria mund të "
                                  "jetë fshirë)"),
    "staff_undelivered_refused": "Telegram e refuzoi ({error})",
    "staff_undelivered_open": "Bileta është sërish e hapur: nuk llogaritet si e përgjigjur.",
    "staff_not_a_ticket": ("Nuk u dërgua: mesazhi të cilit iu përgjigjët nuk i përket asnjë "
                           "bilete. Për t'i shkruar një personi, përgjigjuni postimit të biletës "
                           "së tij (ose shkruani në temën e saj)."),
    "staff_anonymous": ("Nuk u krye: po shkruani si grupi (administrator anonim), ndaj nuk e di "
                        "kush nga stafi jeni. Çaktivizoni „Qëndro anonim” te të drejtat tuaja të "
                        "administratorit për të punuar me biletat."),
    # --- the staff desk (notes, FAQ answers, saved replies, assignment, satisfaction) ---
    "staff_help": (
        "<b>Komandat e stafit</b>\n"
        "Përgjigjuni postimit të një bilete (ose shkruani në temën e saj) për t'i shkruar "
        "personit; një mesazh që fillon me <b>!</b> është shënim privat.\n\n"
        "/open - biletat e hapura\n"
        "/mine - biletat e mia\n"
        "/close N, /reopen N - mbyll ose rihap biletën N\n"
        "/assign N - (si përgjigje një kolegu, ose /assign N @emri) ia jep biletën\n"
        "/unassign N - e heq biletën nga kushdo\n"
        "/note TEKST - (si përgjigje një bilete) shënim privat\n"
        "/faq TEKST - (si përgjigje një bilete) përgjigju me një hyrje të FAQ\n"
        "/saved - (si përgjigje një bilete) përgjigju me një përgjigje të ruajtur\n"
        "/save EMRI - (si përgjigje një mesazhi) ruaje si përgjigje\n"
        "/history - (si përgjigje një bilete) biletat e mëparshme të personit\n"
        "/ban ID ose #N, /unban ID ose #N - blloko ose zhblloko një person\n"
        "/help - kjo listë"
    ),
    "staff_noted": "🔒 Shënim privat te bileta #{number}: personi nuk e sheh.",
    "staff_note_usage": "Shkruani shënimin pas <b>!</b> ose pas /note, si përgjigje një bilete.",
    "staff_reply_to_ticket": "Përdoreni këtë komandë si përgjigje postimit të një bilete.",
    "staff_history_none": "Personi i biletës #{number} nuk ka bileta të tjera.",
    "staff_history_header": "<b>Biletat e tjera të personit të biletës #{number}</b>",
    "staff_history_line": "#{number} · {date} · {status} · {question}",
    "staff_assigned": "Bileta #{number} iu dha {name} (nga {by}).",
    "staff_unassigned": "Bileta #{number} nuk është më e askujt (nga {by}).",
    "staff_assign_usage": ("Përdorimi: /assign N si përgjigje mesazhit të një kolegu, "
                           "ose /assign N @emri; /unassign N"),
    "staff_unknown_member": ("Nuk e njoh {who} si anëtar të stafit; duhet të ketë shkruar "
                             "këtu të paktën një herë."),
    "staff_mine_none": "Nuk keni bileta të hapura.",
    "staff_mine_header": "<b>Biletat tuaja të hapura: {count}</b>",
    "staff_save_usage": ("Përdorimi: /save EMRI si përgjigje mesazhit që do të ruhet "
                         "(emri: shkronja, shifra, - ose _)."),
    "staff_saved": "Përgjigja «{name}» u ruajt. Përdoreni me /saved si përgjigje një bilete.",
    "staff_saved_text_only": "Ruhet vetëm teksti i saj: fotoja ose skedari jo.",
    "staff_save_bots": ("Ruhen vetëm mesazhet e stafit: ato të botit citojnë njerëz (emrin "
                        "dhe fjalët e tyre). Shkruani përgjigjen, pastaj /save EMRI si "
                        "përgjigje asaj."),
    "staff_no_saved": "Kjo përgjigje e ruajtur nuk ekziston më.",
    "staff_saved_none": "Nuk ka përgjigje të ruajtura. Ruani një me /save EMRI.",
    "staff_saved_header": "<b>Përgjigjet e ruajtura</b>",
    "staff_saved_line": "• <b>{name}</b>: {text}",
    "staff_saved_choose": "Cila përgjigje e ruajtur t'i dërgohet personit të biletës #{number}?",
    "staff_faq_usage": "Përdorimi: /faq TEKST si përgjigje postimit të një bilete.",
    "staff_faq_none": "Asnjë hyrje e FAQ nuk përputhet me «{query}».",
    "staff_faq_choose": ("Cila hyrje e FAQ t'i dërgohet personit të biletës #{number} "
                         "(në gjuhën e tij)?"),
    "staff_rated": "Personi vlerësoi biletën #{number}: {vote}",
    "staff_rating_comment": "💬 Komenti i personit për biletën #{number}: {text}",
    "staff_edited": "✏️ <i>(ndryshuar)</i>\n{text}",
    "staff_edited_mark": "✏️ <i>(ndryshuar)</i>",
    "staff_followups": "💬 <b>{name}</b> shkroi te bileta #{number}:\n\n{messages}",
    "staff_card_entry": "\n📚 Përgjigjur me FAQ: <b>{entry}</b>",
    "staff_card_rating": "\nVlerësimi i personit: {vote}",
    "staff_chat_moved": ("ℹ️ Biseda e stafit u zhvendos nga {old} në {new} (u bë supergrup). "
                         "Boti e ndjek; përditësoni <b>staff.chat_id</b> (ose "
                         "<b>staff.routes</b>) në config.yaml me {new}."),
    "rating_ask": "Si shkoi? Na tregoni me një prekje:",
    "rating_thanks": "Faleminderit për vlerësimin! Dëshironi të shtoni një koment?",
    "rating_comment_button": "✍️ Shto një koment",
    "rating_comment_prompt": "Shkruani komentin tuaj në mesazhin e radhës.",
    "rating_comment_thanks": "Faleminderit për komentin!",
    "ticket_after_hours": ("Stafi tani nuk është në punë; përgjigja mund të vijë nga "
                           "<b>{when}</b>."),
    "when": "{day}, {date} në {time}",
    "weekday_0": "e hënë",
    "weekday_1": "e martë",
    "weekday_2": "e mërkurë",
    "weekday_3": "e enjte",
    "weekday_4": "e premte",
    "weekday_5": "e shtunë",
    "weekday_6": "e diel",
    "media_photo": "[foto]",
    "media_document": "[dokument]",
    "media_voice": "[mesazh zanor]",
    "media_video": "[video]",
    "media_audio": "[audio]",
    "adm_stats_satisfaction": ("Kënaqësia me stafin: {rate} 👍 ({good} nga {rated} vlerësime)\n"
                               "<b>Biletat e vlerësuara më keq</b>\n{worst}"),
    "adm_stats_worst_line": "#{number} · {date} · {question}{comment}",
    "cmd_ask": "Pyet stafin e agjencisë",
    "cmd_start": "Fillimi dhe temat",
    "cmd_help": "Si të përdorni botin",
    "cmd_faq": "Pyetjet e shpeshta sipas temave",
    "cmd_search": "Kërko një organizatë në regjistër",
    "cmd_lang": "Ndrysho gjuhën",
    "cmd_contact": "Kontaktet e agjencisë",
    # --- admins (FAQ, suggestions, report) and privacy ---
    "adm_reloaded": "FAQ-ja u ringarkua: {entries} hyrje.\n{change}",
    "adm_unchanged": "FAQ-ja u ringarkua: {entries} hyrje, asnjë ndryshim.",
    "adm_problems": ("<b>FAQ-ja e re ka {count} gabime</b> dhe nuk u përdor; boti vazhdon "
                     "me FAQ-në e fundit të mirë.\n{problems}"),
    "adm_change": "Shtuar: {added}\nHequr: {removed}\nNdryshuar: {changed}",
    "adm_upload_summary": ("<b>{name}</b> është i vlefshëm ({action}).\n{change}\n\n"
                           "Ta vendos në FAQ?"),
    "adm_upload_new": "skedar i ri",
    "adm_upload_replace": "zëvendëson skedarin ekzistues",
    "adm_upload_refused": "Skedari nuk u pranua: {reason}",
    "adm_upload_too_big": "Skedari është më i madh se {limit} KB.",
    "adm_upload_unreadable": "Skedari nuk u shkarkua dot nga Telegram; dërgojeni përsëri.",
    "adm_upload_expired": "Ky ngarkim nuk është më në pritje.",
    "adm_upload_cancelled": "Ngarkimi u anulua; asgjë nuk u shkrua.",
    "adm_confirm": "✅ Vendose",
    "adm_cancel": "✖ Anulo",
    "adm_export_empty": "Nuk ka skedarë FAQ.",
    "adm_export_too_big": "{name} është më i madh se {limit} MB që lejon Telegram; nuk u dërgua.",
    "adm_no_suggestions": "Nuk ka sugjerime në pritje.",
    "adm_suggestion": ("<b>Sugjerimi {id}</b> ({language})\nPyetja: {question}\n"
                       "Përgjigjja e stafit: {answer}\nHyrja e afërt: {entry}"),
    "adm_as_phrasing": "Si formulim i {entry}",
    "adm_as_new": "Si hyrje e re",
    "adm_reject": "Refuzo",
    "adm_accepted_phrasing": "Sugjerimi {id} u shtua si formulim i {entry}; është aktiv.",
    "adm_accepted_new": "Sugjerimi {id} u shtua si hyrja e re {entry}; është aktiv.",
    "adm_rejected": "Sugjerimi {id} u refuzua.",
    "adm_suggestion_failed": "Sugjerimi {id} nuk u shkrua: {reason}",
    "adm_as_learned": "Mësoje si pyetje për {entry}",
    "adm_learned_link": ("Sugjerimi {id}: pyetja tani është një formulim i mësuar i {entry} "
                         "(në bazën e të dhënave, jo në skedarët; shihni /learned)."),
    "adm_learned_none": "Ende nuk ka formulime të mësuara.",
    "adm_learned_item": "<b>#{id}</b> · {entry} · {language} · {state}\n{text}",
    "adm_learned_active_pick": "aktiv ({voters} persona e zgjodhën)",
    "adm_learned_active_staff": "aktiv (përgjigje e stafit e lidhur nga një admin)",
    "adm_learned_active_cases": "aktiv (nga raste të etiketuara)",
    "adm_learned_waiting": "në pritje ({voters} nga {needed} persona)",
    "adm_learned_no_entry": ("nuk përdoret: FAQ-ja nuk ka hyrje {entry} "
                             "(iu ndryshua id-ja? hiqeni dhe mësojeni për id-në e re)"),
    "adm_learned_more": "… dhe {count} të tjera: <i>ngo-faq-bot learned list</i>",
    "adm_learned_remove": "Hiqe #{id}",
    "adm_learned_removed": "Formulimi i mësuar #{id} u hoq; boti nuk e përdor më.",
    "adm_learned_gone": "Formulimi i mësuar #{id} nuk ekziston më.",
    "adm_out_of_scope_item": "<b>#x{id}</b> · jashtë FAQ-së · {language} · {source}\n{text}",
    "adm_out_of_scope_staff": "stafi u përgjigj me fjalët e veta",
    "adm_out_of_scope_cases": "nga raste të etiketuara",
    "adm_out_of_scope_remove": "Hiqe #x{id}",
    "adm_out_of_scope_removed": "Pyetja jashtë FAQ-së #x{id} u hoq; boti nuk e përdor më.",
    "adm_out_of_scope_gone": "Pyetja jashtë FAQ-së #x{id} nuk ekziston më.",
    # What became of a question: the report's lines and the chart's legend.
    "outcome_answered": "Përgjigjur drejtpërdrejt",
    "outcome_picked": "Përgjigjur pas një sugjerimi",
    "outcome_suggested": "Sugjerime pa zgjedhje",
    "outcome_registry": "Kërkime në regjistër",
    "outcome_staff": "Dërguar stafit",
    "chart_title": "Pyetje në ditë, {since} – {until}",
    "chart_axis": "pyetje",
    "chart_empty": "Asnjë pyetje në këtë periudhë",
    "adm_stats": (
        "<b>Statistikat {since} – {until}</b>\n"
        "Pyetje: {asked}\n"
        "{label_answered}: {answered}\n"
        "{label_picked}: {picked}\n"
        "{label_suggested}: {suggested}\n"
        "{label_registry}: {registry}\n"
        "{label_staff}: {staff}\n"
        "👍 {helpful} / 👎 {not_helpful}\n"
        "Koha e përgjigjes së stafit: mediana {median}, 90% brenda {p90} "
        "({answered_tickets} bileta)\n"
        "Bileta të hapura: {open_tickets}\n\n"
        "<b>Pyetjet pa përgjigje më të shpeshta</b>\n{unanswered}"
    ),
    "adm_stats_none": "asnjë",
    "adm_stats_usage": "Përdorimi: /stats [DITË] ose /stats VVVV-MM-DD VVVV-MM-DD",
    "forget_confirm": ("Do të fshij gjithçka që boti ruan për ju: gjuhën, pyetjet dhe "
                       "biletat tuaja. Nuk kthehet mbrapsht. Vazhdoj?"),
    "forget_yes": "Po, fshiji",
    "forget_no": "Jo",
    "forget_done": "U fshi gjithçka që boti ruante për ju.",
    "forget_kept": "Në rregull, nuk u fshi asgjë.",
    "terminal_ask": ("/ask e dërgon pyetjen te stafi i agjencisë vetëm në Telegram, ku stafi "
                     "përgjigjet; këtu në terminal nuk ka staf. Shkruani pyetjen dhe boti "
                     "përgjigjet nga FAQ-ja."),
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
        "{ask}"
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
    "none_of_these_direct": "None of these",
    "help_ask": "/ask QUESTION - send your question to the agency's staff\n",
    "escalate_after": "Please contact the agency directly:\n\n{contact}",
    "also_asked": "You also asked about this:",
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
    "org_candidate": "I found an organisation like “{query}”. Is it this one?",
    "org_closest": "Closest match for “{query}”:",
    "org_demo": ("⚠️ <b>Demo data</b>: this organisation is invented (the sample registry "
                 "bundled with the bot), not a registered organisation."),
    "org_nipt_not_found": (
        "No organisation with NIPT {nipt} is in the registry.\n"
        "Check the number (a letter, 8 digits, a letter) or try the name. For an official "
        "check, contact the agency:\n\n{contact}"
    ),
    "org_not_found": (
        "No registered organisation matches “{query}”.\n"
        "Check the spelling or try the NIPT. For an official check, "
        "contact the agency:\n\n{contact}"
    ),
    "search_usage": ("Write the name or the NIPT after the command, "
                     "e.g. <i>/search {example}</i>"),
    "unknown": "—",
    "registry_value_aktive": "active",
    "registry_value_pezulluar": "suspended",
    "registry_value_cregjistruar": "deregistered",
    "registry_value_shoqate": "Association",
    "registry_value_qender": "Centre",
    "registry_value_fondacion": "Foundation",
    "greeting": "Hello! How can I help? Write your question or see /faq.",
    "here": "I am here. Write your question, or see /faq.",
    "thanks": "You are welcome! If you have another question, just write it.",
    "write_text": "I can only read text. Please write your question.",
    "unknown_command": "I do not know that command.",
    "button_expired": "This button is no longer valid.",
    "error": "Sorry, something went wrong. Please try again a little later.",
    "set_aside": ("Sorry: this message stopped the bot each time it tried to read it, so "
                  "it was set aside without being handled. Please write it again in other "
                  "words; for help from the staff, use /contact."),
    "set_aside_group": ("Sorry: this message stopped the bot each time it tried to read it, "
                        "so it was set aside without being handled. Please write it again "
                        "in other words."),
    "flood": ("You are writing faster than I can read: I take up to {per_minute} messages a "
              "minute. I did not read the others from this minute; please write again in a "
              "moment."),
    "escalate_staff": (
        "I could not find a reliable answer to your question. "
        "Shall I send it to the agency's staff? Their answer will come here, in this chat.\n\n"
        "Or contact the agency directly:\n\n{contact}"
    ),
    "escalate_staff_after": (
        "Shall I send your question to the agency's staff? Their answer will come here, in "
        "this chat.\n\nOr contact the agency directly:\n\n{contact}"
    ),
    "escalate_private_after": (
        "To send your question to the agency's staff, write to me in a private chat.\n\n"
        "Or contact the agency directly:\n\n{contact}"),
    "ask_staff_button": "Send it to the staff",
    "ask_usage": ("Write your question after the command, e.g. <i>/ask How do I change our "
                  "association's address?</i> The staff will answer here."),
    "ticket_opened": (
        "Your question was sent to the staff. Ticket number: <b>#{number}</b>.\n"
        "The answer will come here. What you write from now on goes to the same ticket "
        "until you close it."
    ),
    "ticket_follow_up": "Added to ticket #{number}.",
    "ticket_answer": "💬 <b>Answer from the staff</b> (ticket #{number}):\n\n{text}",
    "ticket_close_button": "Close the ticket",
    "ticket_closed": "Ticket #{number} is closed. Thank you! Write to me again any time.",
    "ticket_closed_by_staff": "The staff closed ticket #{number}. Write to me again any time.",
    "ticket_reopened": "The staff reopened ticket #{number}: your messages go to it again.",
    "ticket_reopened_elsewhere": ("The staff reopened ticket #{number}. What you write goes to "
                                  "ticket #{other}, which is open too."),
    "ticket_too_many": ("You have sent many questions to the staff in the last hour. "
                        "Please wait a little and try again, or contact the agency:\n\n{contact}"),
    "ticket_refused": ("I cannot send questions to the staff from this account. "
                       "Please contact the agency:\n\n{contact}"),
    "ticket_private_only": "To write to the staff, write to me in a private chat.",
    "escalate_private": (
        "I could not find a reliable answer to your question. "
        "To send it to the agency's staff, write to me in a private chat.\n\n"
        "Or contact the agency directly:\n\n{contact}"),
    "status_open": "open",
    "status_answered": "answered",
    "status_closed": "closed",
    "ticket_topic": "#{number} {name}",
    "staff_alias": "Asker #{number}",
    "staff_card": (
        "🎫 <b>Ticket #{number}</b> · {status}\n"
        "From: {who}\n"
        "Language: {language}\n\n"
        "<b>Question:</b>\n{question}\n\n"
        "<b>The bot's best guesses:</b>\n{guesses}{claimed}\n\n"
        "<i>Reply to this message to write to the person.</i>"
    ),
    "staff_guess": "• {question} ({score})",
    "staff_no_guesses": "—",
    "staff_card_claimed": "\n\n👤 Claimed by: <b>{name}</b>",
    "staff_claim_button": "Claim",
    "staff_close_button": "Close",
    "staff_faq_button": "Add to FAQ",
    "staff_sent": "✓ Sent to the person (ticket #{number}).",
    "staff_edit_not_sent": ("An edit of a reply does not reach the person (ticket "
                            "#{number}): send the correction as a new reply."),
    "staff_already_sent": "This answer was sent already (ticket #{number}).",
    "staff_claimed": "Ticket #{number} claimed by {name}.",
    "staff_closed": "Ticket #{number} closed by {name}.",
    "staff_closed_by_person": "The person closed ticket #{number}.",
    "staff_reopened": "Ticket #{number} reopened.",
    "staff_reopened_elsewhere": ("Ticket #{number} reopened. Its person has ticket #{other} open "
                                 "too: what they write goes there."),
    "staff_reopen_banned": ("Ticket #{number} not reopened: its person is banned. Unban them "
                            "first with /unban #{number}."),
    "staff_is_closed": "Ticket #{number} is closed; reopen it with /reopen {number}.",
    "staff_not_closed": "Ticket #{number} is not closed.",
    "staff_no_such_ticket": "There is no ticket #{number}.",
    "staff_no_answer_yet": "Ticket #{number} has no answer from the staff yet.",
    "staff_suggested": ("The question and answer of ticket #{number} were saved "
                        "as a FAQ suggestion."),
    "staff_already_suggested": "Ticket #{number} was already suggested for the FAQ.",
    "staff_banned": "{who} is banned: no more tickets.",
    "staff_the_person": "The person",
    "staff_pseudonym": "Former staff member {number}",
    "staff_card_forgotten": "🎫 Ticket #{number}: the person asked for their data to be deleted.",
    "staff_copy_forgotten": "🗑 Message deleted at the person's request.",
    "staff_unbanned": "{who} is no longer banned.",
    "staff_not_banned": "{who} is not banned.",
    "staff_none_open": "No open tickets.",
    "staff_open_header": "<b>Open tickets: {count}</b> (oldest first)",
    "staff_open_line": "#{number} · {age} · {status} · {claimed} · {question}",
    "staff_unclaimed": "unclaimed",
    "staff_reminder": "⏰ Ticket #{number} has been waiting for {age} ({claimed}).",
    "staff_usage": "Usage: /close N, /reopen N, /open, /ban ID or /ban #N, /unban ID or /unban #N",
    "staff_not_a_user_id": ("“{given}” is not a person's Telegram id: that is a whole number "
                            "above 0, e.g. 123456789 (a group's id is negative). Write "
                            "/{command} ID or /{command} #N (the person of ticket N)."),
    "staff_not_allowed": "Only the staff can do this.",
    "staff_unknown_command": ("Not sent to the person (ticket #{number}): {command} is no "
                              "staff command. To send it as it is, start it with another "
                              "character, e.g. a space before the “/”."),
    "staff_undeliverable": "⚠️ The answer did not reach the person (ticket #{number}): {why}.",
    "staff_undelivered_blocked": "they blocked the bot",
    "staff_undelivered_deactivated": "their Telegram account was deleted",
    "staff_undelivered_no_chat": ("Telegram cannot find a chat with them (their account may be "
                                  "gone)"),
    "staff_undelivered_refused": "Telegram refused it ({error})",
    "staff_undelivered_open": "The ticket is open again: it does not count as answered.",
    "staff_not_a_ticket": ("Not sent: the message you replied to belongs to no ticket. To write to"
                           " a person, reply to their ticket's post (or write in its topic)."),
    "staff_anonymous": ("Not done: you are writing as the group (an anonymous admin), so I cannot "
                        "tell which staff member you are. Turn off “Remain anonymous” in your "
                        "admin rights to work on tickets."),
    # --- the staff desk (notes, FAQ answers, saved replies, assignment, satisfaction) ---
    "staff_help": (
        "<b>Staff commands</b>\n"
        "Reply to a ticket's post (or write in its topic) to write to the person; a "
        "message starting with <b>!</b> is a private note.\n\n"
        "/open - the open tickets\n"
        "/mine - my tickets\n"
        "/close N, /reopen N - close or reopen ticket N\n"
        "/assign N - (as a reply to a colleague, or /assign N @name) give them the ticket\n"
        "/unassign N - the ticket is nobody's\n"
        "/note TEXT - (as a reply to a ticket) a private note\n"
        "/faq TEXT - (as a reply to a ticket) answer with a FAQ entry\n"
        "/saved - (as a reply to a ticket) answer with a saved reply\n"
        "/save NAME - (as a reply to a message) keep it as a saved reply\n"
        "/history - (as a reply to a ticket) the person's earlier tickets\n"
        "/ban ID or #N, /unban ID or #N - ban or unban a person\n"
        "/help - this list"
    ),
    "staff_noted": "🔒 Private note on ticket #{number}: the person does not see it.",
    "staff_note_usage": "Write the note after <b>!</b> or after /note, as a reply to a ticket.",
    "staff_reply_to_ticket": "Use this command as a reply to a ticket's post.",
    "staff_history_none": "The person of ticket #{number} has no other tickets.",
    "staff_history_header": "<b>Other tickets of the person of ticket #{number}</b>",
    "staff_history_line": "#{number} · {date} · {status} · {question}",
    "staff_assigned": "Ticket #{number} was given to {name} (by {by}).",
    "staff_unassigned": "Ticket #{number} is nobody's now (by {by}).",
    "staff_assign_usage": ("Usage: /assign N as a reply to a colleague's message, "
                           "or /assign N @name; /unassign N"),
    "staff_unknown_member": ("I do not know {who} among the staff; they must have written "
                             "here at least once."),
    "staff_mine_none": "You have no open tickets.",
    "staff_mine_header": "<b>Your open tickets: {count}</b>",
    "staff_save_usage": ("Usage: /save NAME as a reply to the message to keep "
                         "(name: letters, digits, - or _)."),
    "staff_saved": "Saved reply “{name}” kept. Use it with /saved as a reply to a ticket.",
    "staff_saved_text_only": "Only its text is kept: not the photo or file.",
    "staff_save_bots": ("Only the staff's own messages can be saved: the bot's quote people "
                        "(their name and words). Write the reply, then /save NAME as a reply "
                        "to it."),
    "staff_no_saved": "That saved reply no longer exists.",
    "staff_saved_none": "There are no saved replies. Keep one with /save NAME.",
    "staff_saved_header": "<b>Saved replies</b>",
    "staff_saved_line": "• <b>{name}</b>: {text}",
    "staff_saved_choose": "Which saved reply goes to the person of ticket #{number}?",
    "staff_faq_usage": "Usage: /faq TEXT as a reply to a ticket's post.",
    "staff_faq_none": "No FAQ entry matches “{query}”.",
    "staff_faq_choose": ("Which FAQ entry goes to the person of ticket #{number} "
                         "(in their language)?"),
    "staff_rated": "The person rated ticket #{number}: {vote}",
    "staff_rating_comment": "💬 The person's comment on ticket #{number}: {text}",
    "staff_edited": "✏️ <i>(edited)</i>\n{text}",
    "staff_edited_mark": "✏️ <i>(edited)</i>",
    "staff_followups": "💬 <b>{name}</b> wrote on ticket #{number}:\n\n{messages}",
    "staff_card_entry": "\n📚 Answered from the FAQ: <b>{entry}</b>",
    "staff_card_rating": "\nThe person's rating: {vote}",
    "staff_chat_moved": ("ℹ️ The staff chat moved from {old} to {new} (it became a "
                         "supergroup). The bot follows it; update <b>staff.chat_id</b> (or "
                         "<b>staff.routes</b>) in config.yaml to {new}."),
    "rating_ask": "How did it go? Tell us with one tap:",
    "rating_thanks": "Thank you for your rating! Would you like to add a comment?",
    "rating_comment_button": "✍️ Add a comment",
    "rating_comment_prompt": "Write your comment in your next message.",
    "rating_comment_thanks": "Thank you for your comment!",
    "ticket_after_hours": ("The staff are not at work now; their answer can come from "
                           "<b>{when}</b>."),
    "when": "{day}, {date} at {time}",
    "weekday_0": "Monday",
    "weekday_1": "Tuesday",
    "weekday_2": "Wednesday",
    "weekday_3": "Thursday",
    "weekday_4": "Friday",
    "weekday_5": "Saturday",
    "weekday_6": "Sunday",
    "media_photo": "[photo]",
    "media_document": "[document]",
    "media_voice": "[voice message]",
    "media_video": "[video]",
    "media_audio": "[audio]",
    "adm_stats_satisfaction": ("Satisfaction with the staff: {rate} 👍 ({good} of {rated} "
                               "ratings)\n<b>Worst-rated tickets</b>\n{worst}"),
    "adm_stats_worst_line": "#{number} · {date} · {question}{comment}",
    "cmd_ask": "Ask the agency's staff",
    "cmd_start": "Start and topics",
    "cmd_help": "How to use the bot",
    "cmd_faq": "Frequently asked questions by topic",
    "cmd_search": "Look an organisation up in the registry",
    "cmd_lang": "Change the language",
    "cmd_contact": "The agency's contacts",
    # --- admins (FAQ, suggestions, report) and privacy ---
    "adm_reloaded": "The FAQ was reloaded: {entries} entries.\n{change}",
    "adm_unchanged": "The FAQ was reloaded: {entries} entries, nothing changed.",
    "adm_problems": ("<b>The new FAQ has {count} problem(s)</b> and was not used; the bot "
                     "keeps answering from the last good FAQ.\n{problems}"),
    "adm_change": "Added: {added}\nRemoved: {removed}\nChanged: {changed}",
    "adm_upload_summary": ("<b>{name}</b> is valid ({action}).\n{change}\n\n"
                           "Put it into the FAQ?"),
    "adm_upload_new": "a new file",
    "adm_upload_replace": "replaces the existing file",
    "adm_upload_refused": "The file was not accepted: {reason}",
    "adm_upload_too_big": "The file is larger than {limit} KB.",
    "adm_upload_unreadable": "The file could not be downloaded from Telegram; send it again.",
    "adm_upload_expired": "This upload is no longer waiting.",
    "adm_upload_cancelled": "Upload cancelled; nothing was written.",
    "adm_confirm": "✅ Put it live",
    "adm_cancel": "✖ Cancel",
    "adm_export_empty": "There are no FAQ files.",
    "adm_export_too_big": "{name} is larger than the {limit} MB Telegram allows; not sent.",
    "adm_no_suggestions": "No suggestions are waiting.",
    "adm_suggestion": ("<b>Suggestion {id}</b> ({language})\nQuestion: {question}\n"
                       "Staff answer: {answer}\nClosest entry: {entry}"),
    "adm_as_phrasing": "As a phrasing of {entry}",
    "adm_as_new": "As a new entry",
    "adm_reject": "Reject",
    "adm_accepted_phrasing": "Suggestion {id} was added as a phrasing of {entry}; it is live.",
    "adm_accepted_new": "Suggestion {id} was added as the new entry {entry}; it is live.",
    "adm_rejected": "Suggestion {id} was rejected.",
    "adm_suggestion_failed": "Suggestion {id} was not written: {reason}",
    "adm_as_learned": "Learn as a question for {entry}",
    "adm_learned_link": ("Suggestion {id}: the question is now a learned phrasing of {entry} "
                         "(in the database, not the files; see /learned)."),
    "adm_learned_none": "No learned phrasings yet.",
    "adm_learned_item": "<b>#{id}</b> · {entry} · {language} · {state}\n{text}",
    "adm_learned_active_pick": "active ({voters} people picked it)",
    "adm_learned_active_staff": "active (a staff answer an admin linked)",
    "adm_learned_active_cases": "active (from labelled cases)",
    "adm_learned_waiting": "waiting ({voters} of {needed} people)",
    "adm_learned_no_entry": ("not used: the FAQ has no entry {entry} "
                             "(was its id changed? remove it and teach it for the new id)"),
    "adm_learned_more": "… and {count} more: <i>ngo-faq-bot learned list</i>",
    "adm_learned_remove": "Remove #{id}",
    "adm_learned_removed": "Learned phrasing #{id} removed; the bot no longer uses it.",
    "adm_learned_gone": "Learned phrasing #{id} no longer exists.",
    "adm_out_of_scope_item": "<b>#x{id}</b> · out of scope · {language} · {source}\n{text}",
    "adm_out_of_scope_staff": "the staff answered in their own words",
    "adm_out_of_scope_cases": "from labelled cases",
    "adm_out_of_scope_remove": "Remove #x{id}",
    "adm_out_of_scope_removed": "Out-of-scope question #x{id} removed; the bot no longer uses it.",
    "adm_out_of_scope_gone": "Out-of-scope question #x{id} no longer exists.",
    # What became of a question: the report's lines and the chart's legend.
    "outcome_answered": "Answered directly",
    "outcome_picked": "Answered after a suggestion",
    "outcome_suggested": "Suggestions not taken",
    "outcome_registry": "Registry look-ups",
    "outcome_staff": "Handed to staff",
    "chart_title": "Questions per day, {since} – {until}",
    "chart_axis": "questions",
    "chart_empty": "No questions in this period",
    "adm_stats": (
        "<b>Statistics {since} – {until}</b>\n"
        "Questions: {asked}\n"
        "{label_answered}: {answered}\n"
        "{label_picked}: {picked}\n"
        "{label_suggested}: {suggested}\n"
        "{label_registry}: {registry}\n"
        "{label_staff}: {staff}\n"
        "👍 {helpful} / 👎 {not_helpful}\n"
        "Staff response time: median {median}, 90% within {p90} "
        "({answered_tickets} tickets)\n"
        "Open tickets: {open_tickets}\n\n"
        "<b>Top unanswered questions</b>\n{unanswered}"
    ),
    "adm_stats_none": "none",
    "adm_stats_usage": "Usage: /stats [DAYS] or /stats YYYY-MM-DD YYYY-MM-DD",
    "forget_confirm": ("I will delete everything the bot keeps about you: your language, "
                       "your questions and your tickets. This cannot be undone. Go on?"),
    "forget_yes": "Yes, delete it",
    "forget_no": "No",
    "forget_done": "Everything the bot kept about you was deleted.",
    "forget_kept": "All right, nothing was deleted.",
    "terminal_ask": ("/ask hands your question to the agency's staff only in Telegram, where "
                     "the staff answer; there is no staff here in the terminal. Write the "
                     "question and the bot answers from the FAQ."),
}

_TAG = re.compile(r"<[^>]+>")
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


def raw_or(lang: str, key: str, default: str) -> str:
    """:func:`raw`, or ``default`` for a key the catalogue does not have (a registry value
    it does not know)."""
    return CATALOGUE[language(lang)].get(key, default)


def raw(lang: str, key: str) -> str:
    """The phrase ``key`` in ``lang`` without substitutions (for plain-text uses)."""
    return CATALOGUE[language(lang)][key]


def plain(text: str) -> str:
    """An HTML phrase as plain text: no tags, no entities (a button's notice, the terminal,
    what is stored of an answer sent as HTML)."""
    return html.unescape(_TAG.sub("", text))
