"""The method documents' own words that the flow tests check against, kept inside the tests.

Written out by hand from the method documents (Swedish). The only normalisation is whitespace
and the joins of lines the PDF extraction broke mid-sentence ("under-leverantörer" was a
hyphenation break → "underleverantörer"). Everything else is the documents' own words and
punctuation, including document 000's "atros" in Konkret exempel.

The tests of the shipped flows use these lists and need nothing outside the repository.
``tests/test_flows_content.py::test_the_question_lists_are_the_method_documents_words`` checks the
lists against the documents themselves where they are available (``/work/shared/method/``, the
``shared/method`` folder beside the checkout, or ``DIALOGSTOD_METHOD_DIR``).
"""

from __future__ import annotations

# key -> (file in the method folder, title, publisher, year)
SOURCES = {
    "000": (
        "000_9601bb60e129147a.txt",
        "Uppföljningsdialog 2023 – Vårdval fysioterapi. Introduktion och mall inför UppföljningsDialog",
        "a region's vårdvalsenhet (the region is not named in the document), summarising Sveriges "
        "Kommuner och Regioner's (SKR) method support for UppföljningsDialog",
        "2023",
    ),
    "001": (
        "001_5ddd09558c78c82a.txt",
        "UppföljningsDialog: Struktur för uppföljningsdialog på vårdcentral (the method, with the 5P model)",
        "Sveriges Kommuner och Regioner (SKR), method support for UppföljningsDialog",
        "year not stated in the document",
    ),
    "002": (
        "002_c59f8badd688f88c.txt",
        "Ramverk för lärande uppföljning av Nära vård – Överblick av syfte och angreppssätt "
        "(presentation for Läns gemensam ledning i samverkan, Kalmar län)",
        "Sveriges Kommuner och Regioner (SKR) with three pilot areas",
        "2024 (12 april 2024)",
    ),
}


# ---------------------------------------------------------------- document 000 (SOURCES['000'])

# (area, section title, subarea title or None, the questions in the document's order)
DOC_000_BANK: list[tuple[str | None, str, str | None, list[str]]] = [
    (
        "P1",
        "Personal (Persons)",
        None,
        [
            "Vilka arbetar här?",
            "Hur är arbetsmiljön?",
            "Hur mår medarbetarna?",
            "Hur ser upplägget ut för fortbildning?",
            "Framtida utmaningar kring utbildning? Fortbildning? Bemanning? Arbetsmiljö?",
        ],
    ),
    (
        "P2",
        "Verksamhetens syfte – vision (Purpose)",
        None,
        ["Hur ser verksamhetens egen verksamhetsidé och vision ut?"],
    ),
    (
        "P3",
        "Patienter",
        None,
        [
            "Hur ser patientgruppen ut? T. ex. ålder, kön, socioekonomiska faktorer?",
            "Titta på data i Nationell patientenkät – hur utvecklas resultaten?",
            "Planeras/pågår några åtgärder utifrån resultaten i Nationell patientenkät?",
            "Hur arbetar mottagningen med Personcentrering? Förbättringspotential gällande personcentrering?",
            "Hur fungerar hanteringen av inkommande remisser?",
        ],
    ),
    (
        "P4",
        "Processer – utveckling, kvalitet och rutiner (Processer)",
        "Organisation och ledning",
        [
            "Hur är verksamhetens arbete organiserat?",
            "Hur arbetar ni med e-hälsa?",
            "Finns det ett ledningssystem och hur fungerar det?",
            "Följsamhet till Vida och ev andra styrande dokument?",
            "Hur ser ledningsstrukturen ut kortfattat? Tillhörighet till större koncern? Planeras ändringar? "
            "Finns det en upplevelse av att verksamheten har mandat att utveckla fysioterapimottagningen?",
            "Finns det särskilda utmaningar avseende mål och resurser?",
            "Är det något med era lokaler som behöver förbättras för patienterna? För personalen?",
            "Utförs någon del av uppdraget av underleverantörer? Hur följs dess kvalitet upp?",
        ],
    ),
    (
        "P4",
        "Processer – utveckling, kvalitet och rutiner (Processer)",
        "Patientsäkerhet",
        [
            "Hur bedrivs arbete med patientsäkerhet?",
            "Finns några utmaningar vad gäller patientsäkerhet?",
            "Hur fungerar avvikelserapportering?",
            "Reflektioner kring senaste Patientsäkerhetsberättelsen?",
            "Reflektioner kring processen gällande införande av Personcentrerat och sammanhållet vårdförlopp?",
        ],
    ),
    (
        "P4",
        "Processer – utveckling, kvalitet och rutiner (Processer)",
        "Utveckling",
        [
            "Hur bevakas och omsätts ny kunskap och evidens i arbetssätten? (T.ex. riktlinjer och vårdprogram)",
            "Hur arbetar verksamheten med förbättringsarbete?",
            "Vilka förbättringsarbeten har genomförts och är pågående?",
            "Vilka förbättringsarbeten planeras? Identifierade förbättringsområden?",
        ],
    ),
    (
        "P4",
        "Processer – utveckling, kvalitet och rutiner (Processer)",
        "Titta på data gemensamt",
        [
            "Vilka datakällor används för att följa verksamheten?",
            "Hur är olika diagnosgrupper fördelade?",
            "Identifieras några skillnader i jämförelse med andra enheter?",
            "Vilka förbättringsområden kan identifieras?",
            "Utmaningar och behov av stöd i det fortsatta kvalitetsarbetet?",
        ],
    ),
    (
        "P4",
        "Processer – utveckling, kvalitet och rutiner (Processer)",
        "Konkret exempel",
        [
            "Välj ett område att titta närmare på (t.ex. rehabplaner, levnadsvanor, atros)",
            "Vad tänker ni om det?",
            "Vad skulle ni kunna ändra för att skapa en förändring?",
            "Finns det något ni kan göra redan imorgon?",
            "Vilka vinster finns det med att åstadkomma förändringen?",
        ],
    ),
    (
        "P4",
        "Processer – utveckling, kvalitet och rutiner (Processer)",
        "Prevention och levnadsvanor",
        [
            "Hur arbetar verksamheten med prevention och levnadsvanor?",
            "Förbättringspotential gällande levnadsvanor?",
            "Utmaningar i arbetet med förebyggande arbete?",
            "Hur arbetar mottagningen med våld i nära relation?",
        ],
    ),
    (
        "P4",
        "Processer – utveckling, kvalitet och rutiner (Processer)",
        "Samverkan",
        [
            "Hur sker samverkan med andra aktörer och vårdgivare? T.ex. SIP, andra mottagningar, "
            "rehabkoordinatorer, FK, kommuner, Friskvården",
            "Hur arbetar ni med individer med komplexa vårdbehov?",
            "Sker någon samverkan med civilsamhället, t.ex. PRO, kyrkan, Röda korset?",
        ],
    ),
    (
        "P5",
        "Mönster i verksamhetens utveckling (Patterns)",
        "Besöksmönster",
        [
            "Hur ser fördelningen mellan olika sorters besök ut? Ex Nybesök, återbesök, gruppbesök, "
            "distansbesök (digitala resp kval telefon)",
            "Hur många patienter är ”mångsökare” (def PVQ mer än 21 besök de senaste 12 mån)",
            "Hur ser besöksfördelningen ut över året (månad, veckor och veckodagar)",
        ],
    ),
    (
        "P5",
        "Mönster i verksamhetens utveckling (Patterns)",
        "Arbete och system för prioriteringar i verksamheter",
        [
            "Reflektioner kring arbete med den etiska plattformen i praktiken? (människovärdesprincipen, "
            "behovs- och solidaritetsprincipen, kostnadseffektivitetsprincipen)",
            "Hur identifierar och hanterar enheten bortträngningseffekter?",
            "Reflektioner kring vårdbehov hos patienter med nedsatt autonomi?",
            "Hur fungerar rutiner för tolksamtal?",
        ],
    ),
    (
        "P5",
        "Mönster i verksamhetens utveckling (Patterns)",
        "Tillgänglighet",
        [
            "Öppettider/Mottagningstider/Telefontider?",
            "E-tjänster?",
            "Tillgänglighet för akut, subakut och kroniskt sjukdom?",
            "Telefontillgänglighet?",
            "Vilka utmaningar finns vad gäller tillgänglighet?",
            "Bisysslor?",
        ],
    ),
    (None, "Sammanfattning", None, ["Vad gör ni bra?", "Vad ska ni jobba vidare med?"]),
    (
        None,
        "Återkoppling till vårdvalsenheten",
        None,
        [
            "Vad är bra?",
            "Vad behöver bli bättre?",
            "Vad skapar värde för verksamheten?",
            "Kommande uppföljningsmöte? Önskemål om något fokusområde då?",
        ],
    ),
]

DOC_000_QUESTIONS = [q for _, _, _, qs in DOC_000_BANK for q in qs]

P4_SUBAREAS = [
    "Organisation och ledning",
    "Patientsäkerhet",
    "Utveckling",
    "Titta på data gemensamt",
    "Konkret exempel",
    "Prevention och levnadsvanor",
    "Samverkan",
]
P5_SUBAREAS = ["Besöksmönster", "Arbete och system för prioriteringar i verksamheter", "Tillgänglighet"]

# ---------------------------------------------------------------- document 001 (SOURCES['001'])

# The document's choice of focus areas, verbatim (the vårdcentral flow asks for it).
DOC_001_FOCUS = "Välj ut 2-3 områden som är extra viktiga att diskutera"

# (area, section title, the guiding question, verbatim)
DOC_001_AREAS = [
    ("P1", "Syfte", "Varför finns vår verksamhet?"),
    ("P2", "Patienter", "Vilka är våra patienter?"),
    ("P3", "Personal", "Vilka arbetar här?"),
    ("P4", "Processer", "Vilka är våra huvudprocesser?"),
    ("P5", "Mönster", "Lärdomar om vårt mikrosystem"),
]

# ---------------------------------------------------------------- document 002 (SOURCES['002'])

DOC_002_AREAS = [
    (
        "A",
        "Behov och förutsättningar",
        [
            "Finns kunskap om målgruppens behov och förmågor?",
            "Finns kompetens att möta målgruppens behov och förmågor?",
            "Ger styrning och ledning förutsättningar att möta behoven och nyttja kompetensen på rätt sätt i rätt tid?",
        ],
    ),
    (
        "B",
        "Samverkan och utveckling",
        [
            "Erbjuds patienter och brukare nära vård som är personcentrerad, samordnad, proaktiv och hälsofrämjande?",
            "Säkerställs gemensam utvecklingskraft genom uppföljning, lärande och utveckling av den nära vården?",
            "Möjliggör organisering och arbetssätt samverkan för en hållbar nära vård?",
        ],
    ),
    (
        "C",
        "Resultat",
        [
            "Får patienter och brukare en nära vård som är personcentrerad, samordnad, proaktiv och hälsofrämjande?",
            "Använder medarbetarna sin gemensamma kompetens på rätt sätt i rätt tid?",
            "Leder den nära vården till ökad hälsa/minskad ohälsa i länet/för målgruppen?",
            "Leder den nära vården till att aktörernas samlade resurser utnyttjas effektivt?",
        ],
    ),
]
DOC_002_QUESTIONS = [q for _, _, qs in DOC_002_AREAS for q in qs]

DOC_002_PARTS = [
    (
        "del-1",
        "Förbereda för gemensam uppföljning och utveckling",
        [
            "Definiera system, målgrupper och aktörer",
            "Säkerställa gemensam utvecklingskraft",
            "Beskriva nära vårdtjänster, arbetssätt och resurser",
        ],
    ),
    (
        "del-2",
        "Utveckla modell för gemensam uppföljning och utveckling",
        [
            "Anpassa uppföljningsfrågor",
            "Tydliggöra önskade resultat, mått, indikatorer och källor",
            "Designa datainsamling",
            "Fånga patienters, brukares och medarbetares perspektiv",
        ],
    ),
    (
        "del-3",
        "Etablera arbetssätt för gemensam uppföljning och utveckling",
        [
            "Planera och genomföra datainsamling och lärmöten på olika nivåer",
            "Visualisera resultat som stöd för gemensam analys",
            "Skapa analys, gemensamt lärande och utveckling av arbetssätt",
        ],
    ),
]
