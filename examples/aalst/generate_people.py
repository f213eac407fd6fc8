#!/usr/bin/env python3
"""Generates people.csv: the spreadsheet HR of a city like Aalst (~90,000 inhabitants)
keeps, one row per person and position. Deterministic (fixed seed).

    python3 examples/aalst/generate_people.py > examples/aalst/people.csv
    cargo run -- org import examples/aalst/people.csv -o examples/aalst/org.toml --city Aalst
"""
import csv, random, sys, unicodedata

random.seed(2026)

FIRST = ["An", "Bart", "Carine", "Dirk", "Els", "Filip", "Griet", "Hans", "Ilse", "Jan", "Katrien",
         "Luc", "Marleen", "Nico", "Olivia", "Pieter", "Quinten", "Rita", "Stijn", "Tine", "Urbain",
         "Veerle", "Wim", "Xavier", "Yasmine", "Zeno", "Sofie", "Koen", "Lien", "Tom", "Nathalie",
         "Joris", "Hilde", "Kris", "Leen", "Mohamed", "Fatima", "Lotte", "Ruben", "Eline"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
        "De Smet", "Dubois", "Lambert", "Dupont", "Hermans", "Vermeulen", "Van den Broeck", "De Cock",
        "Pauwels", "Van Damme", "Verhoeven", "De Backer", "Aerts", "Michiels", "Smets", "Desmet",
        "Van Acker", "Cools", "Segers", "Martens", "De Clercq", "Coppens", "Verstraete", "Baert",
        "Bogaert", "Van Hecke", "De Wilde", "El Amrani", "Yilmaz", "Bulut", "Nowak"]

# department -> services -> teams
ORG = {
    "Algemene Directie": {"Secretariaat": [], "Juridische Dienst": [], "Communicatie": [], "Strategie en Projecten": []},
    "Financien": {"Boekhouding": [], "Aankoop": [], "Belastingen": [], "Financieel Beheer": []},
    "Samenleving": {"Sociale Zaken": ["Inkomen", "Schuldbemiddeling"], "Onderwijs": [], "Kinderopvang": [],
                    "Zorg": [], "Cultuur": [], "Sport": [], "Jeugd": []},
    "Ruimte": {"Omgeving": ["Stedenbouw"], "Mobiliteit": [], "Openbaar Domein": [], "Milieu": []},
    "Burgerzaken": {"Bevolking": [], "Burgerlijke Stand": [], "Vreemdelingen": []},
    "Organisatie": {"Personeel": [], "ICT": [], "Facility": [], "Archief": []},
    "Veiligheid": {"Preventie": [], "Noodplanning": []},
}
STAFF = {
    "Secretariaat": ["Administratief Medewerker", "Notulist"],
    "Juridische Dienst": ["Jurist"],
    "Communicatie": ["Communicatieadviseur", "Webredacteur"],
    "Strategie en Projecten": ["Projectleider", "Beleidsadviseur"],
    "Boekhouding": ["Boekhouder", "Medewerker Boekhouding"],
    "Aankoop": ["Aankoper", "Overheidsopdrachtenjurist"],
    "Belastingen": ["Fiscaal Deskundige"],
    "Financieel Beheer": ["Financieel Analist"],
    "Sociale Zaken": ["Maatschappelijk Werker", "Sociaal Consulent"],
    "Inkomen": ["Maatschappelijk Werker", "Trajectbegeleider"],
    "Schuldbemiddeling": ["Schuldbemiddelaar"],
    "Onderwijs": ["Onderwijscoordinator", "Leerkracht Stedelijk Onderwijs"],
    "Kinderopvang": ["Kinderbegeleider"],
    "Zorg": ["Zorgcoordinator", "Verpleegkundige"],
    "Cultuur": ["Cultuurbeleidscoordinator", "Zaalverantwoordelijke"],
    "Sport": ["Sportfunctionaris", "Redder"],
    "Jeugd": ["Jeugdconsulent", "Jeugdwerker"],
    "Omgeving": ["Omgevingsambtenaar"],
    "Stedenbouw": ["Stedenbouwkundige", "Vergunningsbehandelaar"],
    "Mobiliteit": ["Mobiliteitsambtenaar"],
    "Openbaar Domein": ["Ploegbaas", "Arbeider Openbaar Domein"],
    "Milieu": ["Milieuambtenaar"],
    "Bevolking": ["Loketmedewerker Burgerzaken"],
    "Burgerlijke Stand": ["Ambtenaar Burgerlijke Stand"],
    "Vreemdelingen": ["Dossierbeheerder Vreemdelingen"],
    "Personeel": ["HR-Businesspartner", "Loonadministrateur"],
    "ICT": ["ICT-Architect", "Systeembeheerder", "Informatieveiligheidsconsulent"],
    "Facility": ["Facilitair Medewerker"],
    "Archief": ["Archivaris"],
    "Preventie": ["Preventieadviseur"],
    "Noodplanning": ["Noodplanningscoordinator"],
}
MANDATES = ["Burgemeester", "Schepen Financien", "Schepen Onderwijs", "Schepen Ruimtelijke Ordening",
            "Schepen Sociale Zaken", "Schepen Cultuur", "Schepen Sport", "Schepen Mobiliteit",
            "Schepen Burgerzaken", "Voorzitter Gemeenteraad", "Voorzitter Bijzonder Comite Sociale Dienst"]

used = set()
def person():
    while True:
        name = f"{random.choice(FIRST)} {random.choice(LAST)}"
        if name not in used:
            used.add(name)
            return name

def email(name):
    n = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    first, last = n.split(" ", 1)
    return f"{first}.{last.replace(' ', '')}@aalst.be"

rows = []
keys = {}  # name -> personeelsnummer: HR's stable key, one per person
def add(name, dept="", service="", team="", function="", mandate=""):
    key = keys.setdefault(name, f"P{10001 + len(keys):05d}")
    rows.append({"personeelsnummer": key, "id": "", "name": name, "email": email(name), "department": dept, "service": service,
                 "team": team, "function": function, "mandate": mandate})

add(person(), "Algemene Directie", function="Algemeen Directeur")
add(person(), "Algemene Directie", function="Adjunct-Algemeen Directeur")
add(person(), "Financien", function="Financieel Directeur")
add(person(), "Financien", function="Adjunct-Financieel Directeur")
for dept, services in ORG.items():
    add(person(), dept, function="Departementshoofd")
    add(person(), dept, function="Stafmedewerker Departement")
    for service, teams in services.items():
        add(person(), dept, service, function="Diensthoofd")
        add(person(), dept, service, function="Beleidsmedewerker")
        for _ in range(random.randint(6, 10)):
            add(person(), dept, service, function=random.choice(STAFF[service]))
        for team in teams:
            add(person(), dept, service, team, function="Teamcoach")
            for _ in range(random.randint(6, 10)):
                add(person(), dept, service, team, function=random.choice(STAFF[team]))
# A few people hold two positions (acting head of a second service).
add(rows[10]["name"], "Burgerzaken", "Vreemdelingen", function="Waarnemend Diensthoofd")
for m in MANDATES:
    add(person(), mandate=m)

w = csv.DictWriter(sys.stdout, fieldnames=["personeelsnummer", "id", "name", "email", "department", "service", "team", "function", "mandate"],
                   lineterminator="\n")
w.writeheader()
w.writerows(rows)
