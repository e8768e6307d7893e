"""Registry-specific tokenisation, built on the one normaliser (:func:`bot.text.fold`).

Organisation names are compared word by word. Albanian inflects names
(``Tiranë``, ``Tirana``, ``Tiranës``; ``Burrel``, ``Burrelit``), so each word
also stands for its stems without a case ending; words of five letters or
more also match with one typing error (a letter missing, extra, wrong or two
letters swapped; see :mod:`bot.registry.search`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.text import fold, standard_forms

# Words that carry no identity in a name: articles, prepositions, conjunctions.
STOPWORDS = frozenset("""
    e i te ta se per dhe ne me nga mbi ndaj tek deri pa si sh
    for and of the in on to a an with against at by de la
""".split())

# Words people wrap around a look-up ("a është e regjistruar ...", "contact ... pls").
# Some are also part of real names ("Qendra Kontakt"): see :func:`query_words`.
QUERY_FILLER = frozenset("""
    eshte jane ishte qe do duhet dua deshiroj desha di dini mund kam kemi keni
    nese ne a ju une na ti
    regjistruar regjistrohet regjistrim regjistrimi aktive aktiv aktivi ekziston ekzistojne
    kush cili cila cfare ku kur si sa
    ndodhet gjendet vendndodhja adresa adresen adresa adresat adrese
    numri numrin numer telefoni telefonit telefon tel cel
    emaili emailin email mail maili postes elektronike kontakt kontakti kontaktin kontakte
    info informacion informacione te dhenat dhenat detaje
    nipt nipti niptin niptit statusi statusin
    pershendetje pershendes tung mirembrema miredita faleminderit flm lutem ju lutem fal falni
    kerkoj gjej gjeni me tregoni tregoni thoni
    where is are was were who what which how located location address phone number
    telephone contact contacts details email website site
    pls plz please thanks thank you hello hi hey dear sorry excuse
    registered registry register exist exists existing active status
    find search look lookup up info about does do can could i you me tell give
    their its it this that there any
    still yet valid ende akoma vlefshme
""".split())

# Words that say what kind of organisation it is, not which one. However few
# names use them (a small registry), they weigh like words in 1 name of 20.
GENERIC_WORDS = frozenset("""
    shoqata shoqate qendra qender fondacioni fondacion organizata organizate levizja levizje
    klubi klub forumi forum rrjeti rrjet instituti institut lidhja lidhje unioni union
    nisma nisme aleanca aleance federata federate bashkimi bashkim grupi grup komiteti komitet
    platforma platforme akademia akademi koalicioni koalicion ojf
    association center centre foundation institute network club league alliance initiative
    committee group movement platform academy society organization organisation coalition
    federation ngo
""".split())
GENERIC_SHARE = 0.05

# Albanian case endings (and the English plural), longest first.
SUFFIXES = ("ve", "it", "ut", "in", "un", "es", "se", "ne", "te", "ja", "a", "e", "i", "u",
            "s", "t", "n")
MIN_STEM = 3
MIN_FUZZY = 5


def name_tokens(text: str) -> list[str]:
    """The identifying words of a name: folded, without stopwords, in order, once each."""
    seen: dict[str, None] = {}
    for word in fold(text).split():
        if word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


def query_words(words: Iterable[str], keep: frozenset[str] = frozenset()
                ) -> list[tuple[str, bool]]:
    """The words of a query (folded, :attr:`bot.text.Message.words`) that may name an
    organisation, once each, in order, each with whether it is optional: filler
    (:data:`QUERY_FILLER`, or a Gheg spelling of it: ``osht``, ``regjistru``) may be
    wrapped around a look-up or be part of the name ("Qendra Kontakt", "Shoqata
    Status"), so it counts only for organisations whose name has it. So does a word of
    one character: what folding leaves of a smiley (":D", "<3"), of markup ("<b>"), a
    stray letter or digit, as often as a letter or number of the name ("Dega 2"). Words
    in ``keep`` (typed in capitals, maybe acronyms: ``PA``) are never optional;
    stopwords are left out.
    """
    seen: dict[str, bool] = {}
    for word in words:
        if word not in STOPWORDS or word in keep:
            seen.setdefault(word, (is_filler(word) or len(word) == 1) and word not in keep)
    return list(seen.items())


def is_filler(word: str) -> bool:
    """Whether ``word`` is filler, or a Gheg spelling of filler ("a osht e regjistruar")."""
    return word in QUERY_FILLER or any(form in QUERY_FILLER for form in standard_forms(word))


def keys(word: str) -> set[str]:
    """The word and its stems without one case ending (``tiranes`` -> tirane, tiran).

    A final ``ër`` loses its vowel when an ending is added (Dibër, Dibra;
    Shkodër, Shkodrës), so ``diber`` also gives ``dibr``.
    """
    found = {word}
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            found.add(word[: -len(suffix)])
    if word.endswith("er") and len(word) - 1 >= MIN_STEM + 1:
        found.add(word[:-2] + "r")
    return found


# Albanian and English words for the same thing, common in organisation names:
# people often type the English name of an organisation registered in Albanian,
# or the other way round. Groups of equivalent words (folded), separated by '|'.
_EQUIVALENT_WORDS = """
    shoqata association | qendra center centre | fondacioni foundation | rrjeti network
    klubi club | instituti institute | unioni union | lidhja league | levizja movement
    nisma initiative | aleanca alliance | komiteti committee | akademia academy
    organizata organization organisation | federata federation | platforma platform
    rajonal rajonale regional | bashkepunim cooperation | zhvillim zhvillimin development
    qendrueshem qendrueshme sustainable | rinore rinor rinjve rinjte rinj youth young
    | grave gruas women
    femijeve femijet children | drejtat rights | njeriut human | trashegimi heritage
    mjedisit mjedisore environment environmental | mbrojtjen protection | art arts
    kulture kulturore culture cultural | qytetare civic | shqiptare shqiptar albanian
    shqiperi shqiperise albania | demokraci democracy | arsim arsimit education
    shendet shendetin health | ekonomike economic | kerkime research | studime studies
    politike political policy | ndryshim change | partneret partners | sociale social
    ligjore legal | turizem tourism | integrim integration | evropian european
    komunitetit community | mbeshtetje support | informim information | paqe peace
    emigranteve migrants | dhunes violence | familje family | sportiv sport sports
    mediat media | bujqesi agriculture | sipermarrese entrepreneurs | gazetareve journalists
    mjekeve doctors | avokateve lawyers | studenteve students | nenave mothers
    bibliotekareve librarians | qytetareve citizens | ndihme aid | humanitare humanitarian
    vullnetareve vullnetaret volunteers volunteer
    bletareve bletaret beekeepers | fermereve fermeret farmers | peshkatareve fishermen
    malore malor malit mountain mountains | shtigjet shtigje trails trail | pyjeve forests
    ujit water | detar detare marine sea | liqenit lake | lumit river | natyres nature
    kafsheve animals | aftesi disability disabilities | pensionisteve pensioners
    moshuarve elderly | pakicave minorities | romeve roma | teknologji technology
    inovacion innovation | kombetare kombetar national | nderkombetare international
    lokale lokal local | rurale rural | urbane urban
"""
EQUIVALENTS: dict[str, frozenset[str]] = {}
for _group in _EQUIVALENT_WORDS.replace("\n", "|").split("|"):
    for _word in _group.split():
        EQUIVALENTS[_word] = EQUIVALENTS.get(_word, frozenset()) | (set(_group.split()) - {_word})
