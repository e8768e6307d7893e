"""The one text normaliser, shared by FAQ matching and registry search.

People type without diacritics (``e`` for ``ë``, ``c`` for ``ç``), in any case,
with punctuation, emoji, links and mentions, Gheg or Tosk spellings, and with
greetings and filler around the question. Everything that compares text goes
through :func:`fold` first so that both sides look alike; FAQ matching goes one
step further with :func:`terms`, which also drops stopwords and filler, maps a
few domain synonyms across the two languages onto one concept and stems what
is left.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def strip_diacritics(text: str) -> str:
    """``ë`` -> ``e``, ``ç`` -> ``c`` and likewise for every combining mark."""
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    # A text holds a few distinct marks (ë and ç: two): removing each at once is
    # several times faster than testing every character.
    for mark in {ch for ch in _NON_ASCII.findall(decomposed) if unicodedata.combining(ch)}:
        decomposed = decomposed.replace(mark, "")
    return decomposed


def fold(text: str) -> str:
    """Lower-case, drop diacritics, links, mentions, emoji and punctuation.

    The result is ASCII words separated by single spaces.
    """
    # The patterns are tried only on texts that can hold a match (the FAQ's
    # texts are folded at every load, and they rarely have a link or a mention).
    if "://" in text or "www." in text.lower():
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    text = strip_diacritics(text.casefold())
    return _NON_WORD.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    folded = fold(text)
    return folded.split() if folded else []


# --------------------------------------------------------------------------
# Word lists (folded). General function words of each language, plus the
# greetings, politeness and "I wanted to ask" filler people wrap questions in.
# --------------------------------------------------------------------------

_SQ_STOPWORDS = frozenset("""
a ai ajo ata ato apo as ashtu atje aty ca cdo cfare cila cilat cili cilet cilin
cilen c ckemi cka dhe di do dot duhet duhen e eshte esht asht ose ishte ishin
jane jemi jeni jam je ka kam kemi keni kane kishte kete keto ketu kjo ky kur
ku kush kujt me mua ne na nese nje nj nuk nga pa pak per perse pse po por qe
sa se si sic sipas te tek ti tij tim time tone tona tane tani ty u
une ua vetem ve jo ja ju juaj jone jona yne ime im mi mire te i s ta t ia ja
cilado cdokush ndonje ndonj dicka dica kane ketij kesaj atij asaj atyre ketyre
qenka ben bej bejme bene behet behen mund mundem mundet mundemi mundeni
muj mujm mujme kish ish eshte o osht ishim jena jan jon ene edhe dhe deri
pra pastaj prandaj sepse megjithese kurse ndersa nderkohe mbi nen prane
bej bera beri bejme bejne beje bere benim jap jep japim japin jepni jepet dha
dhashe marr merr marrim marre morem mora vij vjen vijme shkoj shkon shkojme
shkuam gjej gjejme gjen them thone thoni thote di dim dine kohe kohen kohet
sot dje neser tani pas para patjeter kryesisht zakonisht vertet saktesisht
dikush dike dicka gjithcka gjithe gjitha asgje askush ndonjehere gjithmone
rast rastin menyre menyra lloj pjese muaj muajin javen jave vit vite vitin
ri re reja rinj vjeter pare fundit tjeter tjetra tjeret ketu atje mire keq
del dalin doli radhes mbaroj mbarojne mbaron veproj veprojne konkretisht
drejtperdrejt madh madhe vogel vogla ide normale shtoj shtojme pres presim
tuaj tuaja juaja saj tij tyre yt jote shoh shohim pashe thote thone
""".split())

_EN_STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during
each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same
she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours yourself
yourselves im ive id dont doesnt isnt arent cant wont wouldnt shouldnt also
still anything something someone anyone us let lets get got getting go going
must need needs needed want wants wanted may might shall ever every one
really actually already yet way like thing things whether either else much
many lot lots s t d ll re ve m
give gives given gave make makes made take takes took taken put puts see seen saw
look looks looking keep keeps kept come comes came know knows knew think thinks
say says said tell use used find found happen happened happens start started
next last new old full first second third end time times day days week weeks
month months year years today tomorrow yesterday always never sometimes usually
often somewhere everybody everyone everything nobody nothing anybody thing
exactly basically roughly simply probably maybe perhaps okay ok fine sure right
kind sort bit able possible small big large little idea ideas normal add added
worried worry follow almost ready wait waiting try trying happy glad hope etc
""".split())

# Greetings, politeness and filler: never part of a question's meaning.
_GREETINGS = frozenset("""
pershendetje pershendetjet pershendes pershendese tungjatjeta tung ckemi
miredita mirembrema miremengjes mengjes mirembremje njatjeta hej hey hi hello
mirdita mirdit mirmengjes mirmbrema mirmbramja shnet
hallo helo hola hiya yo greetings morning evening afternoon good dear sir madam
team zoti zonja te nderuar nderuar i e salut ciao fal falni excuse sorry
""".split())

_THANKS = frozenset("""
faleminderit flm falemnderit faleminderes rrofsh rrofshi thanks thank thanx thx
ty tnx ty appreciated appreciate cheers ok okay oki okej mire shume nice great
perfect perfekt super you u bravo dakord clear noted kuptova got it much so lot
all fine good shum falemnders faleminders
bye goodbye mirupafshim shihemi helped ndihmuat ndihmoi ndihmove ndihmuan
""".split())
"""Thanks and goodbyes (answered alike: "you are welcome, write if you have another
question")."""

_FILLER = frozenset("""
ju lutem lutem please pls plz kindly pyetje pyes pyesja pyesim pyetja
doja dua deshiroja deshironi deshirojme duam question questions ask asking
wanted wonder wondering know tell told help helpful info information asked asks
hello hi hey dear sir madam regards best thanks thank faleminderit
pershendetje pershendes miredita tung ckemi
""".split())

# Towns people mention for context ("we are an association in Korçë"); where
# an NGO is based does not change what it asks.
_PLACES = frozenset("""
tirana tirane tiranes tiranen durres durresi durrsit shkoder shkodra shkodres
shkodren korce korca korces elbasan elbasani elbasanit vlore vlora vlores fier
fieri fierit berat berati beratit lezhe lezha lezhes diber dibra dibres kukes
kukesi gjirokaster gjirokastra gjirokastres sarande saranda sarandes pogradec
pogradeci kavaje kavaja lushnje lushnja kruje kruja permet permeti tepelene
librazhd peshkopi puke mat burrel kamez kamza
""".split())

_STOPWORDS = _SQ_STOPWORDS | _EN_STOPWORDS | _GREETINGS | _FILLER | _PLACES

# Only the function words that are clearly one language's, for detection.
_SQ_MARKERS = frozenset("""
dhe ose apo per nga nje te ne me si cfare cili cila cilat ku kur kush pse
eshte jane jemi jeni kemi keni kam duhet mund nuk qe se sa po por edhe vetem nese
tone jone juaj ime une ju na i e u ka ta mire shume faleminderit pershendetje
flm miredita mirdita tung ckemi mirupafshim rrofsh rrofshi miremengjes mirmengjes
mirembrema mirmbrema ndihme shnet fal falni cka qka
""".split())
_EN_MARKERS = frozenset("""
the and or for from a an to of in on is are was were do does did how what which
who where when why can could should would will my our your we i you it this that
there have has with about please thanks hello hi thank bye goodbye excuse sorry
""".split())

# A small bilingual glossary of the NGO domain: each group of (folded) words
# means one concept, in either language, so a question in one language meets
# phrasings in the other, and a synonym meets the word the FAQ uses. The key
# names the concept and is the term all the words map to.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    # organisations and bodies
    "ngo": ("ngo", "ngos", "ojf", "ojq", "oshc", "cso", "csos", "nonprofit", "nonprofits",
            "jofitimprurese", "jofitimprues", "jofitimprur"),
    "organi": ("organization", "organisation", "organizate", "organizata", "organizat"),
    "ascs": ("ascs", "amshc", "agjenci", "agjencia", "agjensi", "agjensia", "agency"),
    "associ": ("association", "associations", "shoqate", "shoqata", "shoqat"),
    "founda": ("foundation", "foundations", "fondacion", "fondacioni"),
    "centre": ("centre", "center", "qender", "qendra"),
    "court": ("court", "courts", "gjykate", "gjykata", "gjykat"),
    "govern": ("government", "qeveri", "qeveria"),
    "minist": ("ministry", "ministria", "ministri"),
    "munici": ("municipality", "municipal", "cityhall"),
    "counci": ("council", "keshill", "keshilli"),
    "eu": ("eu", "european", "europe", "europian", "evropian", "evrope"),
    "company": ("company", "companies", "business", "businesses", "biznes", "kompani",
                "firm"),
    # registration and governance
    "regist": ("register", "registration", "regjistrim", "regjistroj", "regjistrohet"),
    "establ": ("establish", "establishing", "create", "creating", "setup", "themeloj",
               "themelim", "themelojme", "krijoj", "krijojme", "krijim", "starting"),
    "proced": ("procedure", "procedures", "process", "procedur", "procedura", "proces",
               "procesi", "steps"),
    "statut": ("statute", "statutes", "statut", "statuti"),
    "board": ("board", "bord", "bordi"),
    "chair": ("chair", "chairman", "chairwoman", "chairperson", "president", "kryetar",
              "kryetari", "kryetare"),
    "direct": ("director", "drejtor", "drejtori", "drejtoresha", "drejtore"),
    "repres": ("representative", "perfaqesues", "perfaqesuesi"),
    "member": ("member", "members", "membership", "anetar", "anetare", "anetaresi"),
    "assemb": ("assembly", "asamble", "asambleja"),
    "name": ("name", "rename", "emer", "emri", "emrin"),
    "change": ("change", "changes", "changing", "amend", "amendment", "modify", "ndryshim",
               "ndryshoj", "ndryshime", "ndryshojme"),
    "seat": ("seat", "address", "adrese", "adresa", "seli", "selia", "selise"),
    "dissol": ("dissolve", "dissolution", "dissolved", "liquidation", "liquidate",
               "liquidator", "shperbej", "shperbehet", "shperberje", "likuidim",
               "likuidator", "windup"),
    "close": ("close", "closing", "closed", "mbyll", "mbyllje", "mbyllet", "mbyllim"),
    "asset": ("asset", "assets", "property", "pasuri", "pasuria"),
    # tax, money and banking
    "tax": ("tax", "taxes", "taxed", "taxation", "tatim", "tatime", "tatimet", "tatimor",
            "tatohen", "tatohet", "taksa", "takse"),
    "vat": ("vat", "tvsh"),
    "exempt": ("exempt", "exemption", "exemptions", "perjashtim", "perjashtohen",
               "perjashtuar"),
    "income": ("income", "revenue", "revenues", "ardhura"),
    "profit": ("profit", "profits", "fitim", "fitimi"),
    "sell": ("sell", "selling", "sale", "sales", "shes", "shesim", "shitje", "shet"),
    "donati": ("donation", "donations", "donate", "gift", "dhurim", "dhurime", "dhurata",
               "dhuratat"),
    "donor": ("donor", "donors", "donator", "donatore", "donatoret"),
    "sponso": ("sponsor", "sponsorship", "sponsoring", "sponsorizim", "sponsorizoj",
               "sponsorizojne"),
    "fund": ("fund", "funds", "funding", "funded", "fonde", "fondet", "financim", "finance",
             "financing", "financed", "money"),
    "cash": ("cash", "kesh"),
    "bank": ("bank", "banks", "banke", "banka"),
    "accoun": ("account", "accounts", "llogari", "llogaria"),
    "bookke": ("accounting", "accountant", "bookkeeping", "books", "kontabilitet",
               "kontabilist", "kontabiliste"),
    "statem": ("statements", "pasqyra", "pasqyrat", "bilanc", "bilanci", "balance"),
    "audit": ("audit", "audited", "auditor", "auditim", "auditues", "auditimi"),
    "annual": ("annual", "yearly", "vjetor", "vjetore"),
    "pay": ("pay", "paid", "paying", "payment", "payments", "paguaj", "paguan", "paguar",
            "paguaje", "paguajme", "paguajne", "pagese", "pagesa"),
    "salary": ("salary", "salaries", "wage", "wages", "payroll", "paga", "pagat",
               "listepagesa", "listepagese"),
    "insura": ("insurance", "sigurime", "sigurimet"),
    # staff and volunteers
    "employ": ("employ", "employee", "employees", "employment", "employer", "hire", "hiring",
               "punonjes", "punonjesi", "punesim", "punesoj", "punesojme", "staff", "staf",
               "stafi"),
    "contra": ("contract", "contracts", "kontrate", "kontrata", "kontraten"),
    "agreem": ("agreement", "agreements", "marreveshje", "marreveshja"),
    "volunt": ("volunteer", "volunteers", "volunteering", "vullnetar", "vullnetare",
               "vullnetaret", "vullnetarizem", "vullnetarizmi", "vullnetarizmin"),
    "minor": ("minor", "minors", "mitur", "underage"),
    "certif": ("certificate", "certificates", "certifikate", "vertetim", "vertetime"),
    # ASCS grants
    "grant": ("grant", "grants", "grante", "granti", "grantin", "grantet"),
    "call": ("call", "calls", "thirrje", "thirrja", "thirrjet"),
    "applic": ("apply", "applying", "application", "applications", "aplikim", "aplikoj",
               "aplikojme", "aplikimi", "aplikimet"),
    "propos": ("proposal", "proposals", "propozim"),
    "deadli": ("deadline", "deadlines", "afat", "afati", "afatin"),
    "budget": ("budget", "budgets", "buxhet", "buxheti", "buxhetin"),
    "projec": ("project", "projects", "projekt", "projekti", "projektin", "projekte"),
    "evalua": ("evaluation", "evaluate", "evaluator", "evaluators", "assessment",
               "vleresim", "vleresimi", "vleresues", "score", "scoring", "pikezim",
               "pike", "piket"),
    "winner": ("winner", "winners", "selected", "fitues", "fituesit", "fituese"),
    "appeal": ("appeal", "appeals", "complaint", "complain", "contest", "ankese", "ankesa",
               "ankohem", "ankohemi", "ankim"),
    "advanc": ("advance", "upfront", "paradhenie", "paradhenia"),
    "tranch": ("tranche", "tranches", "instalment", "installment", "kest", "keste",
               "kesti"),
    "report": ("report", "reports", "reporting", "raport", "raporti", "raportim",
               "raportin"),
    "invoic": ("invoice", "invoices", "receipt", "receipts", "fature", "fatura", "faturat"),
    "cofina": ("cofinancing", "cofinance", "bashkefinancim", "bashkefinancimi"),
    # support, communication, cooperation
    "traini": ("training", "trainings", "trajnim", "trajnime", "kurs", "kurse", "workshop",
               "seminar", "coaching"),
    "media": ("media", "press", "shtyp", "medie", "mediat"),
    "journa": ("journalist", "journalists", "gazetar", "gazetaret"),
    "commun": ("communication", "komunikim", "komunikimi"),
    "strate": ("strategy", "strategies", "strategji", "strategjia", "strategjine"),
    "fundra": ("fundraising", "fundraise", "raise", "raising", "crowdfunding", "mbledh",
               "mbledhim"),
    "free": ("free", "falas"),
    "consul": ("consultation", "consultations", "konsultim", "konsultime", "konsultimi"),
    "servic": ("service", "services", "sherbim", "sherbime", "sherbimi", "sherbimet"),
    "enterp": ("enterprise", "enterprises", "ndermarrje"),
    "disabi": ("disability", "disabilities", "disabled", "aftesi"),
    "youth": ("youth", "young", "rinj", "rini", "rinia"),
    "meet": ("meeting", "meetings", "takim", "takimi"),
    "roadma": ("roadmap", "udherrefyes", "udherrefyesi"),
    "civil": ("civil", "civile"),
    "societ": ("society", "shoqeri", "shoqeria", "shoqerise"),
    "public": ("public", "publik", "publike"),
    "law": ("law", "laws", "legal", "legally", "ligj", "ligji", "ligjit", "ligjin", "ligjor",
            "ligjore", "ligjerisht"),
    "docume": ("document", "documents", "documentation", "paperwork", "papers", "dokument",
               "dokumente", "dokumentet", "dokumentacion", "letra", "dosje", "dosja"),
    "data": ("data", "dhena", "dhenat"),
    "databa": ("database", "databaza", "databazen", "databaze"),
    "privac": ("privacy", "privatesi", "privatesia", "gdpr"),
    "librar": ("library", "biblioteke", "biblioteka", "bibliotek"),
    "study": ("study", "studies", "research", "studim", "studime"),
    "email": ("email", "emails", "mail", "webmail", "postel"),
    "websit": ("website", "web", "site", "faqe", "faqja", "faqen", "faqes"),
    "office": ("office", "offices", "zyre", "zyra", "zyren"),
    # "visit" and "visa" share a stem ("vis": the Albanian ending "-it" and "-a" off)
    "visit": ("visit", "visits", "visiting", "vizite", "vizita", "vizitoj", "vizitojme"),
    "visa": ("visa", "visas", "viza", "vize", "vizen", "vizes"),
    "phone": ("phone", "telephone", "telefon", "telefoni", "telefonit"),
    "hours": ("hours", "orar", "orari", "ore", "oret"),
    "foreig": ("foreign", "abroad", "huaj", "jashte"),
    "intern": ("international", "nderkombetar", "nderkombetare"),
    "sancti": ("sanction", "sanctions", "sanksion", "sanksione", "sanksioneve"),
    "launde": ("laundering", "pastrim"),
    "owner": ("owner", "owners", "ownership", "pronar", "pronare", "pronaret"),
    "benefi": ("beneficial", "perfitues", "perfituesit"),
    "onlin": ("online", "elektronik", "elektronike"),
    "open": ("open", "opening", "opened", "hap", "hapje", "hapjes", "hapim", "hapet",
             "hapni", "hapur", "hapen"),
    "sector": ("sector", "sectors", "sektor", "sektori", "sektorin"),
    "manage": ("management", "manage", "managing", "menaxhim", "menaxhimi", "menaxhoj"),
    "advice": ("advice", "tips", "recommendations", "udhezime", "udhezim"),
    "list": ("list", "lists", "liste", "lista", "listat", "listen"),
    "partne": ("partner", "partners", "partnership", "partneritet", "partneriteti",
               "partnere"),
    "sign": ("sign", "signed", "signing", "signature", "firmos", "firmosim", "firmosur",
             "nenshkruaj", "nenshkrim", "nenshkruar", "nenshkruajme"),
    "interv": ("interview", "interviews", "interviste", "intervista"),
    "rule": ("rule", "rules", "regulation", "regulations", "rregull", "rregulla",
             "rregullore"),
    "campai": ("campaign", "campaigns", "fushate", "fushata"),
    "suppor": ("support", "supports", "mbeshtetje", "mbeshtes", "mbeshtet"),
    "cooper": ("cooperation", "cooperate", "collaboration", "bashkepunim", "bashkepunimi",
               "bashkepunoj", "bashkepunojme", "bashke"),
    "date": ("date", "dates", "datat", "dita"),
    "status": ("status", "statusi", "statusin", "statusit"),
    "commty": ("community", "communities", "komunitet", "komuniteti", "komunitetit",
               "komunitare", "komunitar"),
    "active": ("active", "activity", "activities", "aktiv", "aktive", "aktivitet",
               "aktiviteti", "aktivitete", "aktivitetet"),
    "verify": ("verify", "check", "confirm", "verifikoj", "verifikim", "kontrolloj",
               "kontroll"),
}
# Gheg and colloquial spellings mapped to the standard (Tosk) word: the
# common words no rule of :func:`standard_forms` derives.
_SPELLINGS = {
    "asht": "eshte", "osht": "eshte", "esht": "eshte", "o": "eshte", "jon": "jane",
    "jan": "jane",
    "qfare": "cfare", "qka": "cka", "sesi": "si", "ktu": "ketu", "kto": "keto",
    "mu": "me", "nji": "nje", "njo": "nje", "shum": "shume", "kqyr": "shiko",
    "kerkue": "kerkuar", "qysh": "si", "tash": "tani",
    "kena": "kemi", "jena": "jemi", "mujm": "mundemi", "mujme": "mundemi", "mujt": "mund",
    "muj": "mund", "ba": "bere", "bo": "bere", "bajme": "bejme", "bojme": "bejme",
    "dum": "duam", "dona": "duam", "kan": "kane", "kon": "kane", "vec": "vetem",
    "prej": "nga", "shpi": "shtepi", "shpija": "shtepia", "najsen": "dicka",
    "diqka": "dicka", "qe": "qe", "vet": "vete", "marr": "marre",
    "baj": "bej", "ban": "ben", "bani": "beni", "bahet": "behet", "bahen": "behen",
    "jush": "juve", "hala": "ende",
}


def standard_forms(word: str) -> list[str]:
    """Standard (Tosk) spellings a folded Gheg word may stand for, likeliest first.

    General rules, each a regular sound or spelling difference (the table
    above holds the irregular common words):

    * participle ``-ue`` / ``-u`` -> ``-uar`` (kerkue, regjistru -> kerkuar,
      regjistruar), the ending of the infinitive "me + participle", and its adjective
      ``-ueme`` / ``-uem`` -> ``-uar`` (e regjistrueme -> e regjistruar);
    * the nasal vowel, written ``â`` and folded to ``a``, before ``n``/``m``
      -> ``e`` (thanë -> thënë, emân -> emër is the next rule);
    * rhotacism: Gheg ``n`` between vowels where Tosk has ``r`` (zani -> zeri,
      emni -> emri);
    * ``o`` for Tosk ``a`` before a final nasal (jom -> jam, kom -> kam);
    * the first person plural ``-na`` / ``-m`` -> ``-mi`` / ``-me`` (kena ->
      kemi, bajm -> bajme);
    * the participle of "me + participle" without its ``-ur`` (me shit, me ardh ->
      shitur, ardhur).

    The caller keeps the first form its vocabulary knows: a rule may make a
    word that does not exist, which then simply matches nothing.
    """
    found: list[str] = []

    def add(form: str) -> None:
        if form != word and form not in found:
            found.append(form)

    if word in _SPELLINGS:
        add(_SPELLINGS[word])
    if len(word) < 3:
        return found
    if word.endswith(("ueme", "uem")) and len(word) > 5:  # not "duem" (we want)
        add(word[:word.rindex("uem")] + "uar")
    elif word.endswith("ue"):
        add(word[:-2] + "uar")
    elif word.endswith("u") and len(word) > 4:
        add(word[:-1] + "uar")
    if word[-1] not in "aeiouy" and not word.endswith("ur"):
        add(word + "ur")  # the participle without its ending: me shit, me ardh
    if "an" in word or "am" in word:
        add(_GHEG_NASAL.sub(r"e\1", word))
    if _GHEG_RHOTIC.search(word):
        add(_GHEG_RHOTIC.sub(r"\1r\2", word, count=1))
    if word.endswith(("om", "on")):
        add(_GHEG_O.sub(r"a\1", word))
    if word.endswith("na") and len(word) > 3:
        add(word[:-2] + "mi")
    elif word.endswith("m") and not word.endswith("mm") and len(word) > 3:
        add(word + "e")
    return found


_GHEG_NASAL = re.compile(r"a([nm])(?=[aeiou]|$)")
_GHEG_RHOTIC = re.compile(r"([aeiou]|(?<=e)m)n([aeiou])")
_GHEG_O = re.compile(r"o([nm])$")

_SQ_SUFFIXES = (
    "imeve", "ohemi", "uarit", "uesit", "ueses",
    "imet", "imin", "imit", "imve", "ohet", "ohen", "ohem", "ojme", "ojne", "ojn",
    "oni", "oje", "ove", "uajme", "uajne", "uaj", "uan",
    "eve", "ave", "uar", "ues", "ime", "imi", "ise", "ite", "ive", "ine",
    "ie", "in", "it", "ve", "en", "et", "es", "se", "ne", "ja", "je", "ni", "oj",
    "on", "ue", "im", "ia", "a", "e", "i", "t", "u",
)
_EN_SUFFIXES = (
    "ments", "ment", "ings", "ing", "ies", "ied",
    "ed", "es", "ly", "s",
)
_SUFFIXES = _EN_SUFFIXES + _SQ_SUFFIXES
_SUFFIX_RANK = {suffix: rank for rank, suffix in reversed(list(enumerate(_SUFFIXES)))}
"""Each suffix -> its first place in the lists (the first that fits is removed)."""
_SUFFIX_LENGTHS = sorted({len(suffix) for suffix in _SUFFIXES})
_MIN_STEM = 3
# Albanian drops the ë of a last syllable when a noun is inflected (qendër ->
# qendra, emër -> emri, numër -> numri): drop it from every stem.
_SCHWA = re.compile(r"(?<=[a-z]{2})e([rln])$")
STEM_LENGTH = 6
"""Stems are cut to this many letters: Albanian and English domain words
often share a Latin root (organizata / organisation, regjistrim / register),
and a fixed prefix also absorbs inflections the suffix list misses."""


@lru_cache(maxsize=65536)
def _strip(word: str) -> str:
    """The word without its inflection ending (one suffix) and final-syllable ë."""
    word = _SPELLINGS.get(word, word)
    if word.isdigit() or len(word) <= _MIN_STEM:
        return word
    # The first suffix of the lists that ends the word and leaves a stem: looked up
    # by the word's own endings rather than by trying each of the lists' suffixes.
    endings = [word[-n:] for n in _SUFFIX_LENGTHS if len(word) - n >= _MIN_STEM]
    ranked = [_SUFFIX_RANK[e] for e in endings if e in _SUFFIX_RANK]
    if ranked:
        word = word[: -len(_SUFFIXES[min(ranked)])]
    return _SCHWA.sub(r"\1", word)


def stem(word: str) -> str:
    """A light suffix stemmer for folded Albanian and English words.

    ``regjistrim``, ``regjistrimi``, ``regjistrimin`` and ``regjistrohet`` all
    become ``regjis``; ``registered`` and ``registration`` become ``regist``.
    Numbers and short words are left alone.
    """
    return _strip(word)[:STEM_LENGTH]


def _unique(forms: dict[str, set[str]]) -> dict[str, str]:
    """Form -> concept for the forms (4+ letters) only one concept has."""
    return {form: next(iter(concepts)) for form, concepts in forms.items()
            if len(concepts) == 1 and len(form) >= 4}


def _glossary() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Glossary word -> concept; and, so that other inflections map too, the
    stripped form and the stem of glossary words -> concept, where no other
    concept shares them."""
    by_word: dict[str, str] = {}
    stripped: dict[str, set[str]] = {}
    stems: dict[str, set[str]] = {}
    for concept, group in _CONCEPTS.items():
        by_word.setdefault(concept, concept)
        for word in group:
            by_word.setdefault(word, concept)
            stripped.setdefault(_strip(word), set()).add(concept)
            stems.setdefault(stem(word), set()).add(concept)
    return by_word, _unique(stripped), _unique(stems)


_CONCEPT_OF_WORD, _CONCEPT_OF_STRIPPED, _CONCEPT_OF_STEM = _glossary()


@lru_cache(maxsize=65536)
def term(word: str) -> str:
    """The matching term of one folded word: its concept if the glossary has
    one (for the word, its stripped form, or its stem), else its stem."""
    word = _SPELLINGS.get(word, word)
    stemmed = stem(word)
    return (_CONCEPT_OF_WORD.get(word) or _CONCEPT_OF_STRIPPED.get(_strip(word))
            or _CONCEPT_OF_STEM.get(stemmed) or stemmed)


_STOPWORDS_ANY_SPELLING = _STOPWORDS | {w for w, std in _SPELLINGS.items() if std in _STOPWORDS}
"""The stopwords, and the Gheg spellings of stopwords."""


def is_place(word: str) -> bool:
    """True for the (folded) name of a town people mention for context."""
    return word in _PLACES


def is_stopword(word: str) -> bool:
    """True for function words, greetings and filler of either language."""
    return word in _STOPWORDS_ANY_SPELLING


# Words people write both joined and apart ("non-profit", "e-mail").
_COMPOUNDS = {("non", "profit"): "nonprofit", ("e", "mail"): "email",
              ("road", "map"): "roadmap", ("web", "site"): "website",
              ("data", "base"): "database", ("web", "mail"): "webmail"}
_COMPOUND_STARTS = frozenset(first for first, _ in _COMPOUNDS)


def _join_compounds(tokens: list[str]) -> list[str]:
    if _COMPOUND_STARTS.isdisjoint(tokens):
        return tokens
    joined: list[str] = []
    for token in tokens:
        compound = _COMPOUNDS.get((joined[-1], token)) if joined else None
        if compound:
            joined[-1] = compound
        else:
            joined.append(token)
    return joined


def content_words(text: str) -> list[str]:
    """The folded words of ``text`` that carry meaning: stopwords and filler are
    dropped, and so are numbers other than years (counts, amounts and dates
    say little about what is asked)."""
    return _content(words(text))


def _content(tokens: list[str]) -> list[str]:
    """:func:`content_words` of text already folded into ``tokens``."""
    return [w for w in _join_compounds(tokens)
            if (len(w) == 4 if w.isdigit() else len(w) > 1 and not is_stopword(w))]


# Letter patterns typical of each language, the last resort of detect_language.
_SQ_LETTERS = re.compile(r"xh|zh|gj|nj|dh|rr|q|(?:imi|imin|imit|ve|ja|se|ne|it)$")
_EN_LETTERS = re.compile(r"th|wh|w|ck|ph|ee|oo|(?:tion|ing|ed|ly|ity|ship)$")

def detect_language(text: str,
                    vocabularies: Mapping[str, Collection[str]] | None = None) -> str:
    """``"sq"`` or ``"en"``: which language ``text`` is written in.

    Counts the function words of each language; letters only Albanian uses
    (ë, ç) count for Albanian. A tie (often a few keywords: "verify ngo legal
    status") is settled by ``vocabularies`` (language -> folded words, e.g. of
    the FAQ), then by letter patterns typical of each language. Albanian is
    the default.
    """
    return _language(text.casefold(), words(text), vocabularies)


def _counted(tokens: Sequence[str]) -> Sequence[str]:
    """The words that tell a language: a first "a" is Albanian's question particle as
    often as the English article."""
    return tokens[1:] if tokens and tokens[0] == "a" else tokens


def _marked(lowered: str, counted: Sequence[str]) -> tuple[int, int]:
    """How many marks of each language (Albanian, English) ``counted`` words have: its
    marker words, and ë or ç in the text (two)."""
    sq = sum(1 for w in counted if _SPELLINGS.get(w, w) in _SQ_MARKERS)
    en = sum(1 for w in counted if w in _EN_MARKERS)
    if "ë" in lowered or "ç" in lowered:
        sq += 2
    return sq, en


def _language(lowered: str, tokens: Sequence[str],
              vocabularies: Mapping[str, Collection[str]] | None, tie: str = "sq") -> str:
    """The language ``tokens`` say: by marker words, then by ``vocabularies``, then by
    the letters of each; ``tie`` when nothing tells one from the other."""
    counted = _counted(tokens)
    sq, en = _marked(lowered, counted)
    if sq == en and vocabularies:
        sq = sum(1 for w in counted if w in vocabularies.get("sq", ()))
        en = sum(1 for w in counted if w in vocabularies.get("en", ()))
    if sq == en:
        sq = sum(1 for w in counted if _SQ_LETTERS.search(w))
        en = sum(1 for w in counted if _EN_LETTERS.search(w))
    return tie if sq == en else "en" if en > sq else "sq"


_THANKS_EMOJI = frozenset("👍🙏❤💙💚♥😊🙂👌✅🤝")
_GREETING_EMOJI = frozenset("👋")


_HELP = frozenset(("help", "ndihme", "ndihm", "ndihmo", "ndihmoni", "ndihmen", "ndihmes"))
"""A call for help that, alone or beside a greeting, asks nothing yet ("ndihmë!")."""
_POLITE = (_GREETINGS | _THANKS | _HELP) - frozenset("""
afternoon all appreciate appreciated bravo clear dakord dear e evening fine good got great
i it kuptova lot madam mengjes mire morning much nderuar nice noted ok okay okej oki perfect
perfekt shum shume sir so super te team ty u yo you zonja zoti
""".split())
"""Words that make a message small talk among function words ("hello, I have a question"):
the greetings, thanks and goodbyes but those that say so only beside them ("you", "good",
"ok", "morning")."""
_NOT = frozenset(("not", "no", "nuk", "s", "jo", "but", "por", "never", "kurre", "nothing",
                  "asgje", "kot"))


_HERE = frozenset("""
yes yeah yep no nope po jo alo allo halo
""".split())
"""Words that, alone, answer nothing the bot asked or check that someone is there."""
_THERE = frozenset((
    "anyone there", "is anyone there", "anybody there", "is anybody there", "someone there",
    "is someone there", "are you there", "you there", "a jeni aty", "jeni aty", "a je aty",
    "je aty", "ka njeri", "a ka njeri", "ka njeri aty", "ka kush", "a ka kush"))
"""Someone checking that the bot is there, greetings aside ("hello, is anyone there?");
not "are you there on Saturday?"."""


def smalltalk(message: Message) -> str | None:
    """``"greeting"``, ``"thanks"``, ``"here"`` or ``None`` when ``message`` asks
    something.

    "here": a yes or no alone, or someone checking that the bot is there ("alo", "is
    anyone there?", "a jeni aty?"), told the bot is listening.

    A message is small talk if every word in it is a greeting, a thank you or
    goodbye, or a call for help: "Përshëndetje!", "ok thanks", "👍", "faleminderit
    shumë", "ndihmë"; or if it has one of these (:data:`_POLITE`) and function words or
    filler only, asking nothing (no "?", no question word, not begun as a question)
    and saying no "not" or "but": "Pershendetje, kam nje pyetje", "hello, I have a
    question"; not "hello can you help me", "Thanks, but that is not it".
    """
    tokens = message.words
    if not tokens:
        if any(ch in _THANKS_EMOJI for ch in message.text):
            return "thanks"
        if any(ch in _GREETING_EMOJI for ch in message.text):
            return "greeting"
        return None
    if all(w in _HERE for w in tokens) or " ".join(
            w for w in tokens if w not in _GREETINGS) in _THERE:
        return "here"
    said: Collection[str] = tokens
    if not all(w in _GREETINGS or w in _THANKS or w in _HELP for w in tokens):
        # Function words around a greeting or thanks, asking nothing, saying no "not".
        said = [w for w in tokens if w in _POLITE]
        # "a" before "lot" ("thanks a lot") is the article, not the Albanian question.
        rest = [w for i, w in enumerate(tokens) if w not in _POLITE and not (
            w == "a" and tokens[i + 1:i + 2] == ("lot",))]
        if (not said or "?" in message.text
                or not all(is_stopword(w) or w in _THANKS for w in rest)
                or any(w in _QUESTION_KINDS or w in _NOT for w in rest) or _asks("", rest)):
            return None
    return "thanks" if any(w in _THANKS and w not in _GREETINGS for w in said) else "greeting"


# "Can I talk to a real person?", "mund të më lidhni me dikë nga stafi?"
_CONTACT_VERBS = frozenset("""
talk speak chat connect transfer lidh lidhni lidhim lidhe flas flasim foli fol bisedoj
""".split())
_PEOPLE = frozenset("""
person human humans someone somebody staff operator agent employee people officer
dike dikush njeri njerez stafi stafin staf punonjes operator zyrtar
""".split())
_HUMAN_PHRASES = ("real person", "real human", "live person", "person real", "njeri real",
                  "njeri te vertete", "person te vertete")


def asks_for_staff(text: str) -> bool:
    """True when the message asks to be put through to a person, not the bot."""
    return _asks_for_staff(words(text))


def _asks_for_staff(tokens: Collection[str]) -> bool:
    folded = " ".join(tokens)
    if any(phrase in folded for phrase in _HUMAN_PHRASES):
        return True
    return any(w in _CONTACT_VERBS for w in tokens) and any(w in _PEOPLE for w in tokens)


# --------------------------------------------------------------------------
# A message read once: what FAQ matching and routing need of a person's text.
# --------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+|\n+|(?<=\?)")
_ASKING_WORDS = frozenset((
    "si", "ku", "kur", "cfare", "cili", "cila", "cilat", "sa", "pse", "kush", "a", "mund",
    "mundem", "mundemi", "duhet", "duhen", "how", "what", "where", "when", "which", "who",
    "why", "can", "could", "should", "do", "does", "is", "are", "need", "needs"))
_ASKING_STARTS = ("a mund", "a duhet", "a ka", "a jane", "a eshte", "a keni", "a ju",
                  "a do", "a punoni", "can we", "can i", "do we", "do i", "is it", "is there",
                  "are there", "should we", "should i", "how", "what", "where", "when")
_TO_THE_AGENCY = frozenset(("you", "your", "yours", "ju", "juve", "juaj", "tuaj", "tuajin"))
"""Pronouns by which a person addresses the bot, that is the agency."""
_QUESTION_KINDS = {
    "ku": "where", "where": "where", "kur": "when", "when": "when", "kush": "who", "who": "who",
    "whom": "who", "whose": "who", "sa": "how much", "si": "how", "how": "how", "cfare": "what",
    "what": "what", "cili": "what", "cila": "what", "cilat": "what", "which": "what",
    "pse": "why", "why": "why"}
"""Question word -> the kind of thing it asks for."""
_HOW_MUCH = frozenset(("much", "many", "long"))


def question_kinds(tokens: Iterable[str]) -> frozenset[str]:
    """The kinds of thing (where, when, who, how much, how, what, why) the question
    words among ``tokens`` (folded words) ask for; "how much/many/long" is "how much"."""
    found = set()
    tokens = list(tokens)
    for i, w in enumerate(tokens):
        if w == "how" and i + 1 < len(tokens) and tokens[i + 1] in _HOW_MUCH:
            found.add("how much")
        elif w in _QUESTION_KINDS:
            found.add(_QUESTION_KINDS[w])
    return frozenset(found)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a message: its folded words and whether it asks."""

    text: str
    words: tuple[str, ...]
    asks: bool

    def read(self) -> Message:
        """The sentence as a message of its own (one of two questions a message asks),
        from the words already folded."""
        return Message(text=self.text, words=self.words,
                       content=tuple((w, 1.0) for w in _content(list(self.words))),
                       sentences=(self,), question=self.text)


# A run of letters (no digits, no underscore) as typed.
_LETTER_RUN = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Message:
    """A person's message, read once at the door (see :func:`read`); the FAQ's
    phrasings are read so too.

    ``words`` are its folded words; ``content`` the content words with a
    weight each (story sentences of a long message weigh ``STORY_WEIGHT``,
    the sentences that ask 1); ``sentences`` its sentences; ``question``
    the part that asks (semantic matching embeds it, or a short one with the
    sentence before it: :func:`bot.matcher.asked_part`). What is found in
    these is found when first asked for (a FAQ phrasing needs little of it).
    """

    text: str
    words: tuple[str, ...]
    content: tuple[tuple[str, float], ...]
    sentences: tuple[Sentence, ...]
    question: str

    @cached_property
    def lang(self) -> str:
        """The language its words say (the FAQ matcher settles ties with its own
        vocabulary: :meth:`language`)."""
        return _language(self.text.casefold(), self.words, None)

    @property
    def marked_lang(self) -> str | None:
        """The language its marker words say, when they say one (:func:`_marked`):
        "faleminderit", "hello there"; None for "ok", "👍"."""
        sq, en = _marked(self.text.casefold(), _counted(self.words))
        return None if sq == en else "sq" if sq > en else "en"

    @cached_property
    def said(self) -> str:
        """Its folded words joined by spaces, a Gheg adjective in ``-ueme``/``-uem``
        read as the standard one in ``-uar`` ("a osht e regjistrueme" is "a osht e
        regjistruar"), for the patterns that read a whole message."""
        return " ".join(
            next((f for f in standard_forms(w) if f.endswith("uar")), w)
            if w.endswith(("ueme", "uem")) else w for w in self.words)

    @cached_property
    def capitalised(self) -> frozenset[str]:
        """Its words typed with two capitals or more, folded: maybe acronyms (``PA``,
        ``KPDh``), which a registry look-up never takes for filler."""
        return frozenset(fold(word) for word in _LETTER_RUN.findall(self.text)
                         if sum(ch.isupper() for ch in word) >= 2)

    @cached_property
    def to_agency(self) -> bool:
        """Whether it addresses the agency as "you"."""
        return any(w in _TO_THE_AGENCY for w in self.words)

    @cached_property
    def wants_staff(self) -> bool:
        """Whether it asks for a person (:func:`asks_for_staff`)."""
        return _asks_for_staff(self.words)

    def language(self, vocabularies: Mapping[str, Collection[str]], tie: str = "sq") -> str:
        """The language, ties settled by ``vocabularies`` (see :func:`detect_language`),
        ``tie`` when they do not settle it."""
        return _language(self.text.casefold(), self.words, vocabularies, tie)

    def language_beside_names(self, vocabularies: Mapping[str, Collection[str]],
                              tie: str) -> str:
        """:meth:`language` of its words but those of names (:func:`name_runs`), which
        may be in another language than the question around them ("Is Shoqata e
        Artizanëve registered?"): the language to answer a registry look-up in."""
        typed = self.text.split()
        named: set[int] = set()
        for start, end, _ in name_runs(typed):
            named.update(range(start, end))
        around = [t for i, t in enumerate(typed) if i not in named]
        kept = words(" ".join(around))
        return _language(" ".join(around).casefold(), kept, vocabularies, tie)

    @cached_property
    def kinds(self) -> frozenset[str]:
        """What the sentences that ask ask for (:func:`question_kinds`)."""
        return question_kinds(w for s in self.sentences if s.asks for w in s.words)

    @cached_property
    def terms(self) -> frozenset[str]:
        """The matching terms of its content words (:func:`term`): what makes two
        questions the same question to the FAQ matcher and to learning."""
        return frozenset(term(w) for w, _ in self.content)

    @cached_property
    def questions(self) -> tuple[Sentence, ...]:
        """The questions it asks, of three words or more (a message may ask two things):
        its sentences that ask, a sentence joining two by "and" or a comma as two
        (:func:`_joined_questions`)."""
        return tuple(q for s in self.sentences if s.asks for q in _joined_questions(s)
                     if len(q.words) >= 3)


NAME_JOINERS = frozenset(("e", "i", "te", "të", "se", "së", "per", "për", "of", "the", "for",
                          "and", "dhe"))
"""Little words inside a name, between its Capitalised words ("Qendra për të Drejtat e
Fëmijëve", "Save the Children")."""


def name_runs(typed: Sequence[str]) -> list[tuple[int, int, int]]:
    """The names among the words ``typed`` as written (split at spaces): runs of
    Capitalised words (or acronyms) and the little words between them
    (:data:`NAME_JOINERS`), as (start, end, how many Capitalised words, acronyms such as
    "NGO" not counted); a sentence's first word is a name's only when it is no function
    word ("Is", "A")."""
    bare = [t.strip("\"'«»“”()?!.,:;") for t in typed]

    def capital(i: int) -> bool:
        token = bare[i]
        return bool(token[:1].isupper() and (token[1:2].islower() or token.isupper())
                    and not (i == 0 and is_stopword(fold(token))))

    def titled(i: int) -> bool:
        return bare[i][1:2].islower()

    runs, i = [], 0
    while i < len(typed):
        if not capital(i):
            i += 1
            continue
        start, capitals = i, 0
        while i < len(typed):
            if capital(i):
                capitals += titled(i)
                i += 1
                continue
            j = i
            while j < len(typed) and typed[j].lower() in NAME_JOINERS:
                j += 1
            if j == i or j == len(typed) or not capital(j):
                break
            i = j
        runs.append((start, i, capitals))
    return runs


STORY_WEIGHT = 0.5
"""Weight of the words of a long message's sentences that do not ask
("we are a youth group in Korçë and ...") beside those of the sentence that does."""
LONG_MESSAGE = 14
"""Content words from which a message counts as long (a story around a question)."""


def _asks(sentence: str, tokens: list[str]) -> bool:
    if sentence.rstrip().endswith("?"):
        return True
    joined = " ".join(tokens)
    return bool(tokens) and (_SPELLINGS.get(tokens[0], tokens[0]) in _ASKING_WORDS
                             or any(joined.startswith(s) for s in _ASKING_STARTS))


_JOINERS = frozenset(("and", "dhe"))
"""Words joining two questions ("edhe" is "also" as often: "... edhe si person fizik?")."""
_SECOND_ASKS = frozenset(_QUESTION_KINDS)
"""The words that begin a second question after "and" or a comma: a question word, or
the start of a question (:data:`_SECOND_STARTS`)."""
_SECOND_STARTS = tuple(tuple(start.split()) for start in (*_ASKING_STARTS, "deri kur"))
CLAUSE_STARTS = frozenset((
    "when", "if", "once", "after", "before", "since", "while", "as", "kur", "nese", "nqs",
    "pasi", "sapo", "ndersa", "meqe", "meqenese", "kurdo"))
"""Words that begin a clause before a comma ("When we receive a grant, what reports must
we submit?", "Kur marrim nje grant, cfare..."): one question, not two."""


def _joined_questions(sentence: Sentence) -> tuple[Sentence, ...]:
    """A sentence asking two things joined by "and"/"dhe" or a comma ("ku e keni
    zyren dhe cfare orari keni?", "How do we register and what documents do we
    need?"): its two questions, each of three words or more, the first asking (as
    :func:`_asks` reads it; before a comma, not a clause such as "When we receive a
    grant, ...") and the second beginning with a question word or with the words a
    question begins with ("... dhe a duhet", "... and do we need", "... dhe deri kur");
    any other sentence as it is. The second may join a third."""
    tokens = sentence.text.split()
    folded = [words(token) for token in tokens]
    for k in range(1, len(tokens) - 1):
        joiner = len(folded[k]) == 1 and folded[k][0] in _JOINERS
        if not joiner and not tokens[k - 1].endswith(","):
            continue
        at = k + 1 if joiner else k  # where the second question begins
        first = tuple(w for f in folded[:k] for w in f)
        second = tuple(w for f in folded[at:] for w in f)
        first_text = " ".join(tokens[:k]).rstrip(",")
        if (len(first) >= 3 and len(second) >= 3 and _asks(first_text, list(first))
                and (joiner or first[0] not in CLAUSE_STARTS)
                and (_SPELLINGS.get(second[0], second[0]) in _SECOND_ASKS
                     or any(second[:len(start)] == start for start in _SECOND_STARTS))):
            return (Sentence(first_text, first, True),
                    *_joined_questions(Sentence(" ".join(tokens[at:]), second, True)))
    return (sentence,)


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split at . ? ! ; and line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def read(text: str) -> Message:
    """Read a message once: fold it, split it into sentences, find the part that
    asks and weigh it above the story around it."""
    tokens = words(text)
    sentences = []
    pieces = split_sentences(text)
    for raw in pieces:
        # A text of one sentence is that sentence (stripped): its words are folded.
        sentence_words = tokens if len(pieces) == 1 else words(raw)
        if sentence_words:
            sentences.append(Sentence(raw, tuple(sentence_words), _asks(raw, sentence_words)))
    if sentences and not any(s.asks for s in sentences):
        last = sentences[-1]
        sentences[-1] = Sentence(last.text, last.words, True)
    content: list[tuple[str, float]] = []
    all_content = _content(tokens)
    asking = [s for s in sentences if s.asks]
    question = " ".join(s.text for s in asking) if len(asking) < len(sentences) else text
    if len(all_content) >= LONG_MESSAGE and len(sentences) > 1:
        for s in sentences:
            weight = 1.0 if s.asks else STORY_WEIGHT
            content.extend((w, weight) for w in _content(list(s.words)))
    else:
        content = [(w, 1.0) for w in all_content]
    return Message(text=text, words=tuple(tokens), content=tuple(content),
                   sentences=tuple(sentences), question=question)


# --------------------------------------------------------------------------
# The same question asked again: what the FAQ matcher answers at once and what
# learning counts as one question.
# --------------------------------------------------------------------------

Sameness = frozenset[str] | tuple[str, ...]


def sameness(message: Message) -> Sameness:
    """What makes a question the same question asked again (with :func:`alike`): its
    terms; for a question of function words only ("who are you?", "where are you?": no
    terms), its words in order but for :data:`_EMPHASIS`. Empty for a message without
    words."""
    return message.terms or tuple(w for w in message.words if w not in _EMPHASIS)


_EMPHASIS = frozenset(("ju", "exactly", "actually", "really", "saktesisht", "konkretisht"))
"""Words a question of function words only says or leaves out and stays the same
question: "ju" (an Albanian verb says its person: "kush jeni ju?" is "kush jeni?") and
adverbs of emphasis ("what exactly do you do?" is "what do you do?")."""
KEYWORD_WORDS = 4
"""Words of a text that asks for nothing in particular (no where, how...) and still
reads as a few keywords ("aplikim grant amshc", "Orari"), not as a statement."""

Asking = frozenset[str] | None


def asking(message: Message) -> Asking:
    """What a text asks for (:attr:`Message.kinds`: where, how...), or None for a few
    keywords, which may stand for a question on their terms (:func:`alike`). A text
    whose terms all sit before the clause that asks reads as a statement (nothing):
    "We have a new director, who do we tell?" does not ask who the director is."""
    if not message.kinds and len(message.words) <= KEYWORD_WORDS:
        return None
    if message.terms and not message.terms & _asked_terms(message):
        return frozenset()
    return message.kinds


def _asked_terms(message: Message) -> frozenset[str]:
    """The terms of the clauses (split at commas) of its sentences that ask which ask
    themselves: "who do we tell?" of "We have a new director, who do we tell?"."""
    found: set[str] = set()
    for sentence in message.sentences:
        if not sentence.asks:
            continue
        clauses = [c for c in sentence.text.split(",") if c.strip()]
        if len(clauses) == 1:
            found.update(term(w) for w in _content(list(sentence.words)))
            continue
        for clause in clauses:
            clause_words = words(clause)
            if _asks(clause, clause_words):
                found.update(term(w) for w in _content(clause_words))
    return frozenset(found)


def alike(asked: Asking, phrasing: Asking, terms: int) -> bool:
    """Whether a question and a phrasing with the same :func:`sameness` (of ``terms``
    terms) ask the same question: the phrasing is a few keywords ("Orari": any question
    on its terms); or they ask for the same kinds of thing ("what" and "how" alike:
    "we'd like to rename the association - what to do?", "how do we rename it?"); or the
    question is a few keywords and the phrasing asks what or how ("agency" for "What is
    ASCS?"); or they share more than one term. One term is not enough beside a phrasing
    that asks where or when, nor for a statement: "We want to found an association,
    where do we start?" has the one term "association", as has "pershendetje, jam nga nje
    shoqate ne Shkoder", which asks nothing; "visa" has the one term of "When can I
    visit you?"; "sa OJF jane regjistruar ne databaze?" asks how many, not how to
    register."""
    if phrasing is None or (asked and asked == phrasing):
        return True
    if asked is None and phrasing and phrasing <= _WHAT_OR_HOW:
        return True
    if not asked or not phrasing:  # a few keywords, or a statement
        return terms > 1
    return asked | phrasing <= _WHAT_OR_HOW


_WHAT_OR_HOW = frozenset(("what", "how"))


def same_question(one: Message, other: Message) -> bool:
    """Whether two people's questions are the same question (:func:`sameness` and
    :func:`alike` either way round): what learning counts as one question."""
    key = sameness(one)
    if not key or key != sameness(other):
        return False
    terms = len(one.terms)
    return (alike(asking(one), asking(other), terms)
            or alike(asking(other), asking(one), terms))
