"""Latin-script person files with their truth, in the style of the public record-linkage benchmarks.

The merge stage is mostly used on Chinese data but must also resolve Latin-script person files: given name and
surname in separate columns, street number, street, address line 2, suburb, postcode, state, date of birth
(``YYYYMMDD``) and a social-security number (issue 17). The public benchmark files stay outside the project; this
module makes data of the same shape and the same kinds of dirt, with the truth, to develop and test against.

Two shapes:

* **dedupe** (:func:`dedupe_set`): one file of originals and their duplicates; an original has 0 or 1–9
  duplicates (Zipf-like: many have one, few have nine), each a corrupted copy of the original.
* **link** (:func:`link_set`): two files of the same people, file A the originals, file B one corrupted copy of
  each.

A duplicate carries 1–5 modifications (at most two per field), each as data entry makes them: typos (insert,
delete, substitute, transpose, keyboard neighbour; mostly mid-word), OCR confusions (``rn``/``m``, ``0``/``o``),
phonetic respellings (``ph``/``f``, ``ie``/``y``), a value left empty, given name and surname swapped, a nickname
(``bob`` for ``robert``) or the first initial only, a multi-part surname written otherwise (``van galen`` →
``vangalen``), day and month of the birth date swapped or one digit off, a social-security number or postcode one
digit off or two digits transposed, a changed street number, a suburb abbreviated (``mount`` → ``mt``), a street
type abbreviated, and now and then a whole value replaced by another plausible one (a wrong date, another street).
Originals already miss some values, as real registers do. Every modification is recorded in the truth
(``corruptions``: ``field:kind`` tags, ``;``-separated) so a benchmark can say which kinds of pairs a merge misses.

The default rates are calibrated on a plain Splink model with ordinary settings (``bench/bench_latin.py
--reference``): it scores about as well here as on the public benchmarks (pairwise F1 0.996 dedupe, 0.997 link
at 5 000 people, against 0.989 and 0.9985 there), so a bar set on those files can be met on these.
:func:`score` gives the pairwise figures the way the benchmarks count them: every pair in a dedupe file, only the
pairs across the two files in a link task.

Record ids follow the benchmarks: ``rec-<n>-org`` for an original and ``rec-<n>-dup-<k>`` for its duplicates; the
rows are shuffled. Everything is lower case, empty cells are empty strings, and the same seed gives the same files.

Example:
    >>> data = dedupe_set(originals=50, duplicates=50, seed=1)
    >>> list(data.files), len(data.files["persons"]), list(data.files["persons"].columns) == list(COLUMNS)
    (['persons'], 100, True)
    >>> int(data.truth.groupby("person_id").size().max()) <= 10
    True
    >>> dedupe_set(originals=50, duplicates=50, seed=1).files["persons"].equals(data.files["persons"])
    True
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

COLUMNS = ("rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
           "state", "date_of_birth", "soc_sec_id")
#: Raw column → canonical field: the source mapping a new user writes from ``docs/engagement.md``.
COLUMN_MAPPING = {"given_name": "given_name", "surname": "family_name", "street_number": "street_number",
                  "address_1": "street", "address_2": "address_extra", "suburb": "district", "postcode": "postcode",
                  "state": "province", "date_of_birth": "birth_date", "soc_sec_id": "national_id"}
ID_COLUMN = "rec_id"
TRUTH_COLUMNS = ("source", "record_id", "person_id", "corruptions")

# ---------------------------------------------------------------------------------------------------- vocabulary
# Given names, most frequent first within each group (a name's weight falls with its rank, as in a real register).
GIVEN_NAMES = tuple("""
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark
steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas
eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander patrick frank raymond jack dennis
jerry tyler aaron henry douglas peter adam nathan zachary walter kyle harold carl jeremy keith roger gerald ethan
arthur terry christian sean lawrence austin joe noah jesse albert bryan billy bruce willie jordan dylan alan ralph
gabriel roy juan wayne eugene logan randy louis russell vincent philip bobby johnny bradley lachlan mitchell riley
cooper jayden liam oliver harrison angus hamish campbell declan callum fergus
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley
kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen
amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet
catherine maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith
megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail
alice judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany
charlotte marie kayla alexis lori chloe jade tahlia mia matilda isla ruby zoe sienna ella georgia jasmine
caitlin bridget siobhan mary-jane
jean-pierre francois pierre luc marco giuseppe giovanni luca alessandro matteo hans klaus jurgen stefan dieter
wolfgang lars sven erik anders jan pieter willem dirk sergei dmitri ivan nikolai aleksandr pavel jakub tomasz
piotr krzysztof andrzej miguel jose carlos antonio manuel alejandro diego pablo javier rafael joao paulo
giulia francesca chiara elena sofia ingrid astrid freya sigrid anke katrin ursula svetlana olga natasha irina
agnieszka katarzyna carmen lucia isabel ana beatriz ines
wei ming jun hao jie lei yang tao bin feng li na jing yan hui xin ying mei lin xiao hiroshi takashi kenji yuki
haruto sota yuto aiko yumi sakura hana min-jun ji-ho seo-yeon ji-woo hyun jin-woo thanh minh duc linh anh
priya rahul arjun anjali ravi vikram sanjay deepak sunita kavya aditya rohan nisha pooja amit raj
""".split())

#: Formal given name → the short forms people write (and back, see :data:`_FORMAL`).
NICKNAMES = {
    "robert": ("bob", "rob", "bobby", "robbie"), "william": ("bill", "will", "billy", "liam"),
    "elizabeth": ("liz", "beth", "betty", "lizzie", "eliza"), "margaret": ("maggie", "peggy", "meg", "marge"),
    "james": ("jim", "jimmy", "jamie"), "john": ("jack", "johnny"), "richard": ("rick", "dick", "richie"),
    "michael": ("mike", "mick", "mikey"), "thomas": ("tom", "tommy"), "christopher": ("chris", "kit"),
    "katherine": ("kate", "kathy", "katie"), "catherine": ("cathy", "cate", "kate"), "jennifer": ("jen", "jenny"),
    "rebecca": ("becky", "bec"), "alexander": ("alex", "sandy", "xander"), "anthony": ("tony", "ant"),
    "benjamin": ("ben", "benny"), "daniel": ("dan", "danny"), "david": ("dave", "davy"),
    "edward": ("ed", "ted", "eddie"), "joseph": ("joe", "joey"), "matthew": ("matt", "matty"),
    "nicholas": ("nick", "nicky"), "patrick": ("pat", "paddy"), "samuel": ("sam", "sammy"),
    "stephen": ("steve", "stevie"), "steven": ("steve",), "timothy": ("tim", "timmy"), "andrew": ("andy", "drew"),
    "charles": ("charlie", "chuck", "chas"), "jonathan": ("jon", "jonny"), "kenneth": ("ken", "kenny"),
    "lawrence": ("larry", "laurie"), "peter": ("pete",), "ronald": ("ron", "ronnie"), "gregory": ("greg",),
    "jessica": ("jess", "jessie"), "victoria": ("vicky", "tori"), "samantha": ("sam", "sammi"),
    "susan": ("sue", "susie"), "patricia": ("pat", "trish", "patty"), "deborah": ("deb", "debbie"),
    "debra": ("deb", "debbie"), "christine": ("chris", "chrissy"), "christina": ("tina", "chris"),
    "natalie": ("nat",), "abigail": ("abby",), "frances": ("fran",), "harold": ("harry", "hal"),
    "henry": ("harry", "hank"), "isabella": ("bella", "izzy"), "jacqueline": ("jackie",),
    "kimberly": ("kim",), "pamela": ("pam",), "dorothy": ("dot", "dotty"), "gerald": ("gerry",),
    "douglas": ("doug",), "raymond": ("ray",), "vincent": ("vince", "vinnie"), "philip": ("phil",),
    "bradley": ("brad",), "zachary": ("zach", "zac"), "nathan": ("nate",), "gabriel": ("gabe",),
    "walter": ("walt", "wally"), "frank": ("frankie",), "cynthia": ("cindy",), "judith": ("judy",),
    "theresa": ("terry", "tess"), "teresa": ("tess", "terri"), "virginia": ("ginny",), "alexandra": ("alex",),
    "jeffrey": ("jeff",), "joshua": ("josh",), "jeremy": ("jerry",), "lachlan": ("lachie",),
    "mitchell": ("mitch",), "angela": ("angie",), "kathleen": ("kath", "kathy"), "madison": ("maddie",),
    "charlotte": ("charlie", "lottie"), "matilda": ("tilly", "tilda"), "aleksandr": ("sasha",),
    "dmitri": ("dima",), "giuseppe": ("beppe", "pino"), "francesca": ("franca",),
}
_FORMAL = {}
for _formal, _shorts in NICKNAMES.items():
    for _short in _shorts:
        _FORMAL.setdefault(_short, _formal)

def _surnames() -> tuple[str, ...]:
    # one-word surnames split on white space; the multi-part block (last three lines) on "|"
    text = """
smith jones williams brown wilson taylor johnson white martin anderson thompson nguyen thomas walker harris lee
ryan robinson kelly king davis wright evans roberts green hall wood jackson clarke patel khan lewis james phillips
mitchell turner morris campbell murphy cooper edwards ward watson morgan baker stewart hill young allen scott
bell graham adams carter hughes mills reid miller moore clark collins davies parker bailey cook price russell
bennett wilkinson webb fraser hamilton gray simpson marshall dixon chapman burke kennedy ellis sullivan hunt
shaw stevens ross palmer mason knight butler barnes fisher lloyd dunn holmes riley henderson fletcher harvey
lawrence sutherland matthews jenkins gibson pearce byrne duncan hayes murray mackenzie macdonald mcdonald
mcgregor mclean mckenzie stephens black pike lynch walsh hogan quinn doyle brennan
schmidt schneider fischer weber meyer wagner becker schulz hoffmann koch richter klein wolf schroder neumann
muller rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti costa
giordano mancini lombardi moretti barbieri fontana santoro mariani rinaldi caruso ferrara garcia rodriguez
martinez lopez gonzalez hernandez perez sanchez ramirez torres flores rivera gomez diaz morales ortiz
silva santos oliveira pereira ferreira alves rodrigues dubois moreau laurent lefebvre girard bonnet dupont
lambert fontaine rousseau nowak kowalski wisniewski wojcik kaminski lewandowski zielinski ivanov petrov
sokolov popov kuznetsov novak horvat jensen nielsen hansen pedersen andersen larsen johansson karlsson
nilsson eriksson larsson olsen berg haugen
chen wang zhang liu yang huang zhao wu zhou xu sun ma zhu hu guo lin he gao luo zheng liang xie tang
tanaka sato suzuki takahashi watanabe ito yamamoto nakamura kobayashi kato kim park choi jung kang cho yoon
jang lim tran le pham hoang phan vu dang bui do ngo duong ly singh sharma kumar gupta reddy rao iyer nair
das chopra mehta joshi"""
    multi = ("van galen|van der berg|van dyk|van den bosch|de la cruz|de silva|de souza|da costa|di stefano|"
             "del rosario|dos santos|von muller|le roux|st john|o'brien|o'connor|o'neill|o'sullivan|o'reilly|"
             "d'angelo|al hassan|ben david|smith-jones|taylor-wood|mac donald|mac kenzie")
    single = text.split()
    # multi-part surnames take every fifth rank, so a few of them are common
    out: list[str] = []
    parts = multi.split("|")
    for i, name in enumerate(single):
        out.append(name)
        if i % 5 == 4 and parts:
            out.append(parts.pop(0))
    return tuple(out + parts)


SURNAMES = _surnames()

STATES = ("nsw", "vic", "qld", "wa", "sa", "tas", "act", "nt")
#: (suburb, postcode, state)
SUBURBS = (
    ("sydney", "2000", "nsw"), ("parramatta", "2150", "nsw"), ("north sydney", "2060", "nsw"),
    ("blacktown", "2148", "nsw"), ("penrith", "2750", "nsw"), ("liverpool", "2170", "nsw"),
    ("bankstown", "2200", "nsw"), ("hornsby", "2077", "nsw"), ("chatswood", "2067", "nsw"),
    ("manly", "2095", "nsw"), ("bondi", "2026", "nsw"), ("randwick", "2031", "nsw"), ("newtown", "2042", "nsw"),
    ("mount druitt", "2770", "nsw"), ("st marys", "2760", "nsw"), ("castle hill", "2154", "nsw"),
    ("campbelltown", "2560", "nsw"), ("wollongong", "2500", "nsw"), ("newcastle", "2300", "nsw"),
    ("maitland", "2320", "nsw"), ("gosford", "2250", "nsw"), ("port macquarie", "2444", "nsw"),
    ("coffs harbour", "2450", "nsw"), ("wagga wagga", "2650", "nsw"), ("albury", "2640", "nsw"),
    ("dubbo", "2830", "nsw"), ("orange", "2800", "nsw"), ("bathurst", "2795", "nsw"), ("tamworth", "2340", "nsw"),
    ("lismore", "2480", "nsw"), ("queanbeyan", "2620", "nsw"), ("goulburn", "2580", "nsw"),
    ("south hurstville", "2221", "nsw"), ("east maitland", "2323", "nsw"), ("west ryde", "2114", "nsw"),
    ("north rocks", "2151", "nsw"), ("glenmore park", "2745", "nsw"), ("kellyville", "2155", "nsw"),
    ("melbourne", "3000", "vic"), ("st kilda", "3182", "vic"), ("richmond", "3121", "vic"),
    ("footscray", "3011", "vic"), ("box hill", "3128", "vic"), ("glen waverley", "3150", "vic"),
    ("dandenong", "3175", "vic"), ("frankston", "3199", "vic"), ("werribee", "3030", "vic"),
    ("mount waverley", "3149", "vic"), ("port melbourne", "3207", "vic"), ("north melbourne", "3051", "vic"),
    ("geelong", "3220", "vic"), ("ballarat", "3350", "vic"), ("bendigo", "3550", "vic"),
    ("shepparton", "3630", "vic"), ("mildura", "3500", "vic"), ("warrnambool", "3280", "vic"),
    ("traralgon", "3844", "vic"), ("wodonga", "3690", "vic"), ("east bentleigh", "3165", "vic"),
    ("south yarra", "3141", "vic"), ("brunswick", "3056", "vic"), ("coburg", "3058", "vic"),
    ("brisbane", "4000", "qld"), ("fortitude valley", "4006", "qld"), ("south brisbane", "4101", "qld"),
    ("toowong", "4066", "qld"), ("indooroopilly", "4068", "qld"), ("chermside", "4032", "qld"),
    ("ipswich", "4305", "qld"), ("logan central", "4114", "qld"), ("southport", "4215", "qld"),
    ("surfers paradise", "4217", "qld"), ("caloundra", "4551", "qld"), ("maroochydore", "4558", "qld"),
    ("toowoomba", "4350", "qld"), ("rockhampton", "4700", "qld"), ("mackay", "4740", "qld"),
    ("townsville", "4810", "qld"), ("cairns", "4870", "qld"), ("bundaberg", "4670", "qld"),
    ("hervey bay", "4655", "qld"), ("mount isa", "4825", "qld"), ("gladstone", "4680", "qld"),
    ("perth", "6000", "wa"), ("fremantle", "6160", "wa"), ("subiaco", "6008", "wa"), ("joondalup", "6027", "wa"),
    ("rockingham", "6168", "wa"), ("mandurah", "6210", "wa"), ("armadale", "6112", "wa"),
    ("midland", "6056", "wa"), ("bunbury", "6230", "wa"), ("geraldton", "6530", "wa"),
    ("kalgoorlie", "6430", "wa"), ("albany", "6330", "wa"), ("mount lawley", "6050", "wa"),
    ("south perth", "6151", "wa"), ("east victoria park", "6101", "wa"),
    ("adelaide", "5000", "sa"), ("glenelg", "5045", "sa"), ("norwood", "5067", "sa"),
    ("port adelaide", "5015", "sa"), ("elizabeth", "5112", "sa"), ("salisbury", "5108", "sa"),
    ("mount barker", "5251", "sa"), ("mount gambier", "5290", "sa"), ("whyalla", "5600", "sa"),
    ("port augusta", "5700", "sa"), ("murray bridge", "5253", "sa"), ("north adelaide", "5006", "sa"),
    ("hobart", "7000", "tas"), ("launceston", "7250", "tas"), ("devonport", "7310", "tas"),
    ("burnie", "7320", "tas"), ("kingston", "7050", "tas"), ("sandy bay", "7005", "tas"),
    ("new town", "7008", "tas"), ("glenorchy", "7010", "tas"),
    ("canberra", "2601", "act"), ("belconnen", "2617", "act"), ("tuggeranong", "2900", "act"),
    ("woden", "2606", "act"), ("gungahlin", "2912", "act"), ("kambah", "2902", "act"),
    ("darwin", "0800", "nt"), ("palmerston", "0830", "nt"), ("alice springs", "0870", "nt"),
    ("katherine", "0850", "nt"), ("casuarina", "0810", "nt"),
)

STREET_NAMES = tuple(dict.fromkeys("""
wilkins rosella macquarie george pitt elizabeth victoria albert king queen william bourke collins flinders
swanston high church station railway park bridge hill mill market school charles john james edward
oxford cambridge kent york beach ocean river lake forest banksia wattle acacia jacaranda waratah
grevillea boronia banks cook phillip hunter bligh darling hume sturt flinders bass lawson blaxland
wentworth anzac gallipoli kokoda tobruk federation centenary jubilee coronation regent prince princess
marine esplanade harbour bay cliff ridge valley glen heath moor meadow orchard vine olive laurel
cedar pine oak elm ash birch willow maple poplar cypress myrtle hawthorn holly ivy lavender rose
violet daisy lilac magnolia camellia hibiscus jasmine orchid tulip carrington wakefield kingsford
mclachlan gilmore cameron lachlan murray darling murrumbidgee barwon molonglo tasman stirling
lonsdale spencer russell hope mount bent hobson torrens onkaparinga lyons curtin chifley menzies
""".split()))
STREET_TYPES = {"street": "st", "road": "rd", "avenue": "ave", "place": "pl", "crescent": "cres",
                "circuit": "cct", "close": "cl", "drive": "dr", "court": "ct", "parade": "pde", "lane": "ln",
                "terrace": "tce", "highway": "hwy", "way": "wy", "grove": "gr", "boulevard": "bvd"}
_STREET_TYPE_WEIGHTS = (30, 22, 12, 9, 6, 4, 4, 8, 5, 2, 2, 2, 1, 3, 2, 1)
#: Address line 2: a property, building or village name (most records have none).
ADDRESS_2 = tuple("""
the grange|rosedale|kooinda|stonehaven|brentwood village|wirraway|belmont park|yarralumla|the oaks|
glenrock|hillcrest|riverview|seaview|the pines|oakleigh manor|st anne's|harbourside|parkview|ashgrove|
wattle grove|kurrajong|mirrabooka|warrawee|the meadows|bellevue|lakeside|fairview|willow lodge|
summerhill|greenacres|the laurels|kingsley house|carinya|illawong|jindalee|koorana|lorikeet lodge|
rivendell|tallowwood|woodlands|unit 3|unit 7|unit 12|flat 2|flat 5|level 4|suite 10|apartment 6|
building 2|block c|lot 14|rmb 412|po box 88|locked bag 7""".replace("\n", "").split("|"))

# ------------------------------------------------------------------------------------------ dirt: building blocks
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
#: Key → the keys next to it on a QWERTY keyboard (same row and the rows above and below).
KEYBOARD = {}
for _r, _row in enumerate(_KEYBOARD_ROWS):
    for _c, _key in enumerate(_row):
        _near = [_row[j] for j in (_c - 1, _c + 1) if 0 <= j < len(_row)]
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_KEYBOARD_ROWS):
                _near += [_KEYBOARD_ROWS[_other][j] for j in (_c - 1, _c, _c + 1)
                          if 0 <= j < len(_KEYBOARD_ROWS[_other])]
        KEYBOARD[_key] = "".join(_near)
#: OCR confusions (either direction is listed separately).
OCR = (("m", "rn"), ("rn", "m"), ("d", "cl"), ("cl", "d"), ("w", "vv"), ("l", "1"), ("i", "1"), ("1", "l"),
       ("o", "0"), ("0", "o"), ("s", "5"), ("5", "s"), ("b", "6"), ("g", "9"), ("9", "g"), ("z", "2"), ("e", "c"),
       ("c", "e"), ("h", "b"), ("u", "v"), ("v", "u"), ("n", "h"), ("q", "g"), ("8", "b"), ("b", "8"), ("li", "h"))
#: Phonetic respellings (as a name is heard and written down).
PHONETIC = (("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("ee", "ea"), ("ea", "ee"),
            ("ie", "y"), ("y", "ie"), ("y", "i"), ("i", "y"), ("ou", "ow"), ("sch", "sh"), ("sh", "sch"),
            ("gh", ""), ("th", "t"), ("z", "s"), ("s", "z"), ("ei", "ie"), ("ie", "ei"), ("ae", "e"),
            ("oo", "u"), ("x", "ks"), ("qu", "kw"), ("mm", "m"), ("ll", "l"), ("tt", "t"), ("nn", "n"),
            ("ss", "s"), ("rr", "r"), ("l", "ll"), ("t", "tt"), ("n", "nn"), ("son", "sen"), ("sen", "son"),
            ("man", "mann"), ("mann", "man"), ("v", "w"), ("w", "v"), ("j", "g"), ("dt", "t"), ("tz", "ts"),
            ("ey", "y"), ("an", "en"), ("er", "ar"), ("ch", "tch"), ("aa", "a"), ("ough", "o"), ("wr", "r"))
#: Suburb spellings as people write them.
SUBURB_VARIANTS = (("north ", "nth "), ("north ", "n "), ("south ", "sth "), ("south ", "s "), ("east ", "e "),
                   ("west ", "w "), ("mount ", "mt "), ("mount ", "mt. "), ("saint ", "st "), ("st ", "saint "),
                   ("st ", "st. "), ("port ", "pt "), (" park", " pk"), (" heights", " hts"), (" hill", " hl"),
                   (" bay", " b"), (" ", ""), (" ", "-"))


def _replace_at(rng: random.Random, value: str, old: str, new: str) -> str:
    """``value`` with one occurrence of ``old`` (chosen at random) replaced by ``new``."""
    spots = [i for i in range(len(value)) if value.startswith(old, i)]
    i = rng.choice(spots)
    return value[:i] + new + value[i + len(old):]


def _alphabet(value: str) -> str:
    return _DIGITS if value.isdigit() else _LETTERS


def error_position(rng: random.Random, value: str, offset: int = 0) -> int:
    """Where a typing error falls: around the middle of the word, rarely at its start (Pollock & Zamora 1984: the
    first letter is the least often wrong; FEBRL places errors the same way). ``offset`` 1 allows the end (an
    insert)."""
    last = len(value) - 1 + offset
    return max(0, min(last, round(rng.gauss((len(value) + offset) / 2 + 1, 1.0))))


def typo(rng: random.Random, value: str) -> tuple[str, str]:
    """One typing error: insert, delete, substitute or transpose a character. Returns (value, kind)."""
    kinds = ["insert", "substitute"] + (["delete"] if len(value) > 1 else []) + \
        (["transpose"] if len(value) > 1 and len(set(value)) > 1 else [])
    kind = rng.choice(kinds)
    alphabet = _alphabet(value)
    if kind == "insert":
        i = error_position(rng, value, 1)
        return value[:i] + rng.choice(alphabet) + value[i:], kind
    i = error_position(rng, value)
    if kind == "delete":
        return value[:i] + value[i + 1:], kind
    if kind == "substitute":
        return value[:i] + rng.choice(alphabet.replace(value[i], "")) + value[i + 1:], kind
    spots = [j for j in range(len(value) - 1) if value[j] != value[j + 1]]
    j = min(spots, key=lambda k: (abs(k - i), k))
    return value[:j] + value[j + 1] + value[j] + value[j + 2:], kind


def keyboard_typo(rng: random.Random, value: str) -> str:
    """A key next to the intended one was hit (substitution by a QWERTY neighbour)."""
    spots = [i for i, c in enumerate(value) if c in KEYBOARD]
    if not spots:
        return typo(rng, value)[0]
    at = error_position(rng, value)
    i = min(spots, key=lambda k: (abs(k - at), k))
    return value[:i] + rng.choice(KEYBOARD[value[i]]) + value[i + 1:]


def _rule(rng: random.Random, value: str, rules) -> str | None:
    usable = [(old, new) for old, new in rules if old in value and (old.strip() or " " in value.strip())]
    if not usable:
        return None
    old, new = rng.choice(usable)
    out = _replace_at(rng, value, old, new)
    return out if out and out != value else None


def ocr_error(rng: random.Random, value: str) -> str:
    """A scanned form read wrongly: ``rn`` for ``m``, ``0`` for ``o``, ``1`` for ``l``…"""
    return _rule(rng, value, OCR) or typo(rng, value)[0]


def phonetic_variant(rng: random.Random, value: str) -> str:
    """The value as heard and respelt: ``ph``/``f``, ``ie``/``y``, a doubled or single consonant…"""
    return _rule(rng, value, PHONETIC) or typo(rng, value)[0]


def digit_off(rng: random.Random, value: str) -> str:
    """One digit replaced by another (anywhere: numbers are keyed digit by digit)."""
    spots = [i for i, c in enumerate(value) if c.isdigit()]
    i = rng.choice(spots)
    return value[:i] + rng.choice(_DIGITS.replace(value[i], "")) + value[i + 1:]


_PARTICLES = ("van", "von", "de", "da", "di", "del", "dos", "le", "st")


def surname_variant(rng: random.Random, value: str) -> str | None:
    """A multi-part surname written otherwise: joined, another separator, the particle dropped, ``mc``/``mac``."""
    parts = value.replace("'", " ").replace("-", " ").split()
    options = []
    if len(parts) > 1:
        options += ["".join(parts), " ".join(parts), "-".join(parts), parts[-1]]
        if "'" in value:
            options += [value.replace("'", ""), value.replace("'", " ")]
        if parts[0] in _PARTICLES:  # van galen → v. galen
            options += [parts[0][0] + ". " + " ".join(parts[1:])]
    for a, b in (("mac ", "mc"), ("mac", "mc"), ("mc", "mac"), ("mc", "mac "), ("mac ", "mac")):
        if value.startswith(a):
            options.append(b + value[len(a):])
    options = [o for o in dict.fromkeys(options) if o and o != value]
    return rng.choice(options) if options else None


def street_variant(rng: random.Random, value: str) -> str | None:
    """The street type abbreviated, written out or left off (``wilkins street`` → ``wilkins st``)."""
    words = value.split()
    if len(words) < 2:
        return None
    last = words[-1]
    full = {v: k for k, v in STREET_TYPES.items()}
    if last in STREET_TYPES:
        choice = rng.choice([STREET_TYPES[last], STREET_TYPES[last] + ".", ""])
    elif last in full:
        choice = rng.choice([full[last], ""])
    else:
        return None
    return " ".join(words[:-1] + ([choice] if choice else []))


def _valid_date(value: str) -> bool:
    try:
        dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return len(value) == 8


def date_day_month_swapped(value: str) -> str | None:
    """``YYYYMMDD`` with day and month swapped (the US / European confusion); None when that is no other date."""
    day, month = value[6:8], value[4:6]
    swapped = value[:4] + day + month
    return swapped if swapped != value and _valid_date(swapped) else None


def date_digit_off(rng: random.Random, value: str) -> str:
    """One digit of ``YYYYMMDD`` wrong, keeping a real date when one of a few tries gives one."""
    for _ in range(6):
        out = value[:2] + digit_off(rng, value[2:])  # the century is rarely mistyped
        if _valid_date(out):
            return out
    return out


def replacement(rng: random.Random, name: str) -> str:
    """Another plausible value of field ``name`` (a wrong date, another street: a value taken from another form)."""
    if name == "given_name":
        return rng.choice(GIVEN_NAMES)
    if name == "surname":
        return rng.choice(SURNAMES)
    if name == "street_number":
        return str(int(rng.lognormvariate(2.6, 1.0)) + 1)
    if name == "address_1":
        return f"{rng.choice(STREET_NAMES)} {rng.choice(list(STREET_TYPES))}"
    if name == "address_2":
        return rng.choice(ADDRESS_2)
    if name in ("suburb", "postcode"):
        return rng.choice(SUBURBS)[0 if name == "suburb" else 1]
    if name == "date_of_birth":
        return dt.date.fromordinal(_BIRTH_START + rng.randrange(_BIRTH_SPAN)).strftime("%Y%m%d")
    if name == "soc_sec_id":
        return str(rng.randrange(1_000_000, 10_000_000))
    raise ValueError(f"no replacement for field {name}")


_BIRTH_START = dt.date(1920, 1, 1).toordinal()
_BIRTH_SPAN = dt.date(2006, 12, 31).toordinal() - _BIRTH_START


# ------------------------------------------------------------------------------------------------- the generator
@dataclass(frozen=True)
class LatinConfig:
    """The generator's knobs. The defaults give data about as hard as the public benchmarks (a plain Splink model
    with ordinary settings scores about the same on both); raise them for a harder set.

    Attributes:
        modifications: probability of 1, 2, … modifications in one duplicate.
        max_per_field: most modifications one field takes in a duplicate.
        max_duplicates: most duplicates of one original (dedupe mode).
        zipf: exponent of the number of duplicates per original (``P(k) ∝ k^-zipf``, k = 1 … max_duplicates).
        household: share of originals living with another original (same surname and address; another person).
        missing: share of originals whose field is empty (address_2 is set only for a share of 1 - its value).
        field_weights: how likely a modification hits each field (``names`` = given name and surname swapped).
        kind_weights: per field, how likely each kind of modification is (see :data:`KINDS`).
    """

    modifications: tuple[float, ...] = (0.30, 0.30, 0.20, 0.12, 0.08)
    max_per_field: int = 2
    max_duplicates: int = 9
    zipf: float = 1.5
    household: float = 0.0
    missing: dict[str, float] = field(default_factory=lambda: {
        "given_name": 0.03, "surname": 0.02, "street_number": 0.05, "address_1": 0.04, "address_2": 0.60,
        "suburb": 0.02, "postcode": 0.02, "state": 0.08, "date_of_birth": 0.10, "soc_sec_id": 0.01})
    field_weights: dict[str, float] = field(default_factory=lambda: {
        "given_name": 1.2, "surname": 1.5, "names": 0.25, "street_number": 1.0, "address_1": 1.0,
        "address_2": 0.8, "suburb": 1.0, "postcode": 0.5, "state": 0.5, "date_of_birth": 1.0, "soc_sec_id": 0.5})
    kind_weights: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "given_name": {"typo": 4, "keyboard": 2, "ocr": 1, "phonetic": 2, "missing": 0.5, "nickname": 1.5,
                       "initial": 0.5, "replaced": 0.2},
        "surname": {"typo": 4, "keyboard": 2, "ocr": 1, "phonetic": 2, "missing": 0.4, "multipart": 1.5,
                    "replaced": 0.2},
        "names": {"swap": 1},
        "street_number": {"digit": 3, "shift": 1, "typo": 1, "missing": 0.5, "replaced": 0.3},
        "address_1": {"typo": 4, "keyboard": 1, "ocr": 1, "abbreviation": 2, "missing": 0.6, "replaced": 0.2},
        "address_2": {"typo": 3, "missing": 2, "replaced": 0.4},
        "suburb": {"typo": 3, "phonetic": 1.5, "variant": 2, "missing": 0.3, "replaced": 0.1},
        "postcode": {"digit": 3, "transpose": 2, "missing": 0.3, "replaced": 0.2},
        "state": {"missing": 1, "wrong": 1},
        "date_of_birth": {"day_month": 2, "digit": 4, "transpose": 1, "missing": 1, "replaced": 0.4},
        "soc_sec_id": {"digit": 5, "transpose": 4, "missing": 0.3, "replaced": 1},
    })


#: Every kind of modification, by field (the tags of the truth's ``corruptions``).
KINDS = {name: tuple(kinds) for name, kinds in LatinConfig().kind_weights.items()}
#: The link files' defaults: one copy per person, 1–5 modifications (2.4 on average).
LINK_CONFIG = LatinConfig()
#: The dedupe file's defaults: duplicates carry more modifications, as in the public dedupe
#: benchmark, which a plain Splink model finds harder than the link one (2.95 on average).
DEDUPE_CONFIG = LatinConfig(modifications=(0.15, 0.25, 0.25, 0.20, 0.15))


def _modify(rng: random.Random, record: dict[str, str], name: str, kind: str) -> str | None:
    """The new value of field ``name`` after a ``kind`` modification, or None when it does not apply."""
    value = record.get(name, "")
    if name == "names":
        return None if record["given_name"] == record["surname"] else "swap"
    if not value:
        return None  # an empty field has nothing to corrupt (and "missing" changes nothing)
    if kind == "missing":
        return ""
    if kind == "typo":
        return typo(rng, value)[0] if len(value) > 1 or name != "given_name" else None
    if kind == "keyboard":
        return keyboard_typo(rng, value)
    if kind == "ocr":
        return ocr_error(rng, value)
    if kind == "phonetic":
        return phonetic_variant(rng, value)
    if kind == "nickname":
        options = NICKNAMES.get(value, ()) or ((_FORMAL[value],) if value in _FORMAL else ())
        return rng.choice(options) if options else None
    if kind == "initial":
        return value[0] if len(value) > 1 else None
    if kind == "multipart":
        return surname_variant(rng, value)
    if kind == "abbreviation":
        return street_variant(rng, value)
    if kind == "variant":
        return _rule(rng, value, SUBURB_VARIANTS)
    if kind in ("digit", "transpose") and not value.isdigit():
        return typo(rng, value)[0]
    if kind == "digit":
        return date_digit_off(rng, value) if name == "date_of_birth" else digit_off(rng, value)
    if kind == "transpose":
        spots = [i for i in range(len(value) - 1) if value[i] != value[i + 1]]
        if not spots:
            return None
        i = rng.choice(spots)
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    if kind == "shift":
        return str(max(1, int(value) + rng.choice((-10, -2, -1, 1, 2, 10)))) if value.isdigit() else None
    if kind == "day_month":
        return date_day_month_swapped(value)
    if kind == "wrong":
        return rng.choice([s for s in STATES if s != value])
    if kind == "replaced":
        return replacement(rng, name)
    raise ValueError(f"unknown modification {name}:{kind}")


def corrupt(rng: random.Random, original: dict[str, str], config: LatinConfig) -> tuple[dict[str, str], list[str]]:
    """A duplicate of ``original`` and the ``field:kind`` tags of the modifications made to it."""
    record = dict(original)
    fields, weights = list(config.field_weights), list(config.field_weights.values())
    wanted = rng.choices(range(1, len(config.modifications) + 1), weights=config.modifications)[0]
    tags: list[str] = []
    per_field: dict[str, int] = {}
    for _ in range(wanted * 8):  # tries: a modification may not apply to this record
        if len(tags) == wanted:
            break
        name = rng.choices(fields, weights=weights)[0]
        if per_field.get(name, 0) >= config.max_per_field or (name == "names" and name in per_field):
            continue
        kinds = config.kind_weights[name]
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        new = _modify(rng, record, name, kind)
        if new is None or (name != "names" and new == record[name]):
            continue
        if name == "names":
            record["given_name"], record["surname"] = record["surname"], record["given_name"]
        else:
            record[name] = new
        per_field[name] = per_field.get(name, 0) + 1
        tags.append(f"{name}:{kind}")
    return record, tags


def _ranked(rng: random.Random, values: tuple[str, ...], n: int, exponent: float = 0.9) -> list[str]:
    """``n`` draws from ``values`` with weights falling with the rank (common names are common)."""
    weights = [1 / (rank + 8) ** exponent for rank in range(len(values))]
    return rng.choices(values, weights=weights, k=n)


def make_originals(n: int, rng: random.Random, config: LatinConfig) -> list[dict[str, str]]:
    """``n`` distinct people as a register holds them (some values already missing)."""
    given = _ranked(rng, GIVEN_NAMES, n)
    surnames = _ranked(rng, SURNAMES, n)
    places = _ranked(rng, SUBURBS, n, exponent=0.6)
    streets = rng.choices(STREET_NAMES, k=n)
    types = rng.choices(list(STREET_TYPES), weights=_STREET_TYPE_WEIGHTS, k=n)
    used_ids: set[int] = set()
    people = []
    for i in range(n):
        suburb, postcode, state = places[i]
        while (ssn := rng.randrange(1_000_000, 10_000_000)) in used_ids:
            pass
        used_ids.add(ssn)
        number = int(rng.lognormvariate(2.6, 1.0)) + 1  # median 14: most houses have small numbers
        person = {"given_name": given[i], "surname": surnames[i], "street_number": str(min(number, 999)),
                  "address_1": f"{streets[i]} {types[i]}", "address_2": rng.choice(ADDRESS_2),
                  "suburb": suburb, "postcode": postcode, "state": state,
                  "date_of_birth": dt.date.fromordinal(_BIRTH_START + rng.randrange(_BIRTH_SPAN)).strftime("%Y%m%d"),
                  "soc_sec_id": str(ssn)}
        if people and rng.random() < config.household:  # lives with an earlier person: same surname and address
            other = rng.choice(people)
            person.update({k: other[k] for k in ("surname", "street_number", "address_1", "address_2", "suburb",
                                                 "postcode", "state")})
        for name, rate in config.missing.items():
            if rng.random() < rate:
                person[name] = ""
        people.append(person)
    return people


def _duplicate_counts(rng: random.Random, originals: int, duplicates: int, config: LatinConfig) -> list[int]:
    """How many duplicates each original has: Zipf-like 1 … max_duplicates, ``duplicates`` in all."""
    ks = range(1, config.max_duplicates + 1)
    weights = [k ** -config.zipf for k in ks]
    counts = [0] * originals
    order = list(range(originals))
    rng.shuffle(order)
    left = duplicates
    for i in order:
        if left <= 0:
            break
        counts[i] = min(left, rng.choices(ks, weights=weights)[0])
        left -= counts[i]
    if left > 0:  # too few originals for this many duplicates at this distribution: top up to the maximum
        for i in order:
            extra = min(left, config.max_duplicates - counts[i])
            counts[i] += extra
            left -= extra
    if left > 0:
        raise ValueError(f"{duplicates} duplicates do not fit {originals} originals at most "
                         f"{config.max_duplicates} each: ask for fewer duplicates or more originals")
    return counts


@dataclass
class LatinSet:
    """Generated person files and their truth.

    Attributes:
        mode: ``dedupe`` (one file) or ``link`` (two files of the same people).
        files: source name → records (the :data:`COLUMNS`, all text; empty string = missing).
        truth: one row per record: ``source``, ``record_id``, ``person_id`` and ``corruptions`` (the
            ``field:kind`` tags of the modifications, ``;``-separated, empty for an original) — the shape
            :func:`tests.merge.accuracy.accuracy` reads.
    """

    mode: str
    files: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    seed: int = 0

    def records(self) -> pd.DataFrame:
        """Every record of every file with its source, person and corruptions (for scoring and diagnosis)."""
        frames = [f.assign(source=name) for name, f in self.files.items()]
        return pd.concat(frames, ignore_index=True).merge(
            self.truth.rename(columns={"record_id": ID_COLUMN}), on=["source", ID_COLUMN])


def _frame(rows: list[dict[str, str]], rng: random.Random) -> pd.DataFrame:
    rng.shuffle(rows)
    return pd.DataFrame(rows, columns=[*COLUMNS, "_person", "_tags"])


def _split(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = pd.DataFrame({"source": name, "record_id": frame[ID_COLUMN], "person_id": frame["_person"],
                          "corruptions": frame["_tags"]})
    return frame[list(COLUMNS)].reset_index(drop=True), truth


def dedupe_set(originals: int = 5000, duplicates: int = 5000, seed: int = 1,
               config: LatinConfig | None = None, source: str = "persons") -> LatinSet:
    """One file of ``originals`` people and ``duplicates`` corrupted copies of some of them (1–9 each)."""
    config = config or DEDUPE_CONFIG
    rng = random.Random(seed)
    people = make_originals(originals, rng, config)
    counts = _duplicate_counts(rng, originals, duplicates, config)
    rows = []
    for i, (person, count) in enumerate(zip(people, counts)):
        rows.append({ID_COLUMN: f"rec-{i}-org", **person, "_person": f"p{i}", "_tags": ""})
        for k in range(count):
            copy, tags = corrupt(rng, person, config)
            rows.append({ID_COLUMN: f"rec-{i}-dup-{k}", **copy, "_person": f"p{i}", "_tags": ";".join(tags)})
    frame, truth = _split(source, _frame(rows, rng))
    return LatinSet("dedupe", {source: frame}, truth, seed)


def link_set(people: int = 5000, seed: int = 1, config: LatinConfig | None = None,
             sources: tuple[str, str] = ("file_a", "file_b")) -> LatinSet:
    """Two files of the same ``people``: A the originals, B one corrupted copy of each."""
    config = config or LINK_CONFIG
    rng = random.Random(seed)
    originals = make_originals(people, rng, config)
    a_rows, b_rows = [], []
    for i, person in enumerate(originals):
        a_rows.append({ID_COLUMN: f"rec-{i}-org", **person, "_person": f"p{i}", "_tags": ""})
        copy, tags = corrupt(rng, person, config)
        b_rows.append({ID_COLUMN: f"rec-{i}-dup-0", **copy, "_person": f"p{i}", "_tags": ";".join(tags)})
    (a, truth_a), (b, truth_b) = _split(sources[0], _frame(a_rows, rng)), _split(sources[1], _frame(b_rows, rng))
    return LatinSet("link", {sources[0]: a, sources[1]: b}, pd.concat([truth_a, truth_b], ignore_index=True), seed)


# ------------------------------------------------------------------------------------------------ as a client
def engagement_document(data: LatinSet, client_id: str = "latin") -> dict:
    """The engagement file a new user writes for these files from ``docs/engagement.md``: one ``customers``
    source per file with the plain column mapping, and no merge settings (the defaults)."""
    sources = {name: {"path": f"raw/{name}.csv", "kind": "customers", "encoding": "utf-8",
                      "id_column": ID_COLUMN, "columns": dict(COLUMN_MAPPING),
                      "description": f"Latin-script person file ({data.mode}, seed {data.seed})"}
               for name in data.files}
    return {"client": {"id": client_id, "name_zh": "拉丁字母人员", "name_en": "Latin-script persons"},
            "engagement": f"Latin-script person {data.mode} (issue 17)", "language": "en",
            "period": {"start": "2025-01-01", "end": "2025-12-31"}, "stages": ["merge"], "sources": sources}


def write_client(data: LatinSet, folder: Path | str, client_id: str = "latin") -> Path:
    """Write ``raw/<source>.csv`` (UTF-8), ``truth/identity.csv`` and ``engagement.yaml`` into ``folder``;
    returns the engagement file's path."""
    folder = Path(folder)
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    (folder / "truth").mkdir(exist_ok=True)
    for name, frame in data.files.items():
        frame.to_csv(folder / "raw" / f"{name}.csv", index=False, encoding="utf-8")
    data.truth.to_csv(folder / "truth" / "identity.csv", index=False, encoding="utf-8")
    path = folder / "engagement.yaml"
    path.write_text(yaml.safe_dump(engagement_document(data, client_id), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------------- scoring
def predicted(crosswalk: pd.DataFrame, data: LatinSet) -> pd.DataFrame:
    """Every generated record (:meth:`LatinSet.records`) with the ``customer_id`` a merge gave it; a record missing
    from the crosswalk (quarantined) is a customer of its own, ``missing:<source>:<rec_id>``."""
    customers = crosswalk[["source", "record_id", "customer_id"]].astype({"record_id": str}).rename(
        columns={"record_id": ID_COLUMN})
    out = data.records().merge(customers, on=["source", ID_COLUMN], how="left")
    absent = out["customer_id"].isna()
    out.loc[absent, "customer_id"] = "missing:" + out.loc[absent, "source"] + ":" + out.loc[absent, ID_COLUMN]
    return out


def pairwise(records: pd.DataFrame, cross_only: bool) -> dict[str, float]:
    """Pairwise precision / recall / F1 of ``customer_id`` against ``person_id`` (with the counts ``tp``, ``fp``,
    ``fn``); ``cross_only`` counts only pairs of records from two different sources (a link task)."""
    def pairs(keys: list[str]) -> int:
        if not cross_only:
            n = records.groupby(keys).size()
            return int((n * (n - 1) // 2).sum())
        n = records.groupby(keys + ["source"]).size().unstack("source", fill_value=0)
        total, squares = n.sum(axis=1), (n ** 2).sum(axis=1)
        return int(((total ** 2 - squares) // 2).sum())  # pairs whose two records lie in different sources

    both, found, true = pairs(["customer_id", "person_id"]), pairs(["customer_id"]), pairs(["person_id"])
    precision = both / found if found else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": both, "fp": found - both, "fn": true - both, "precision": precision, "recall": recall, "f1": f1}


def score(crosswalk: pd.DataFrame, data: LatinSet) -> dict[str, float]:
    """Pairwise figures of a merge's crosswalk on ``data``: all pairs (dedupe) or cross-file pairs only (link).

    Example:
        >>> data = link_set(people=3, seed=1)
        >>> perfect = data.truth.rename(columns={"person_id": "customer_id"})
        >>> score(perfect, data)["f1"], score(perfect.assign(customer_id=perfect["record_id"]), data)["recall"]
        (1.0, 0.0)
    """
    return pairwise(predicted(crosswalk, data), cross_only=data.mode == "link")
