"""The 43 territorial police forces of England and Wales and a rough assignment of the
local authorities in ``ingest/reference/local_authorities.csv`` to them.

The assignment is synthetic but plausible: London boroughs to the Metropolitan Police
(the City to the City of London Police), metropolitan boroughs and unitary authorities
by name, Welsh principal areas to the four Welsh forces, and shire districts (E07) by
the county block their codes fall in.  It only decides which force's monthly file a
generated row lands in; the warehouse takes the area from the LSOA name, never from
the force.
"""

from __future__ import annotations

import csv
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "ingest" / "reference"

# police.uk "Falls within" names of the 43 territorial forces
FORCES = (
    "Avon and Somerset Constabulary",
    "Bedfordshire Police",
    "Cambridgeshire Constabulary",
    "Cheshire Constabulary",
    "City of London Police",
    "Cleveland Police",
    "Cumbria Constabulary",
    "Derbyshire Constabulary",
    "Devon & Cornwall Police",
    "Dorset Police",
    "Durham Constabulary",
    "Dyfed-Powys Police",
    "Essex Police",
    "Gloucestershire Constabulary",
    "Greater Manchester Police",
    "Gwent Police",
    "Hampshire Constabulary",
    "Hertfordshire Constabulary",
    "Humberside Police",
    "Kent Police",
    "Lancashire Constabulary",
    "Leicestershire Police",
    "Lincolnshire Police",
    "Merseyside Police",
    "Metropolitan Police Service",
    "Norfolk Constabulary",
    "North Wales Police",
    "North Yorkshire Police",
    "Northamptonshire Police",
    "Northumbria Police",
    "Nottinghamshire Police",
    "South Wales Police",
    "South Yorkshire Police",
    "Staffordshire Police",
    "Suffolk Constabulary",
    "Surrey Police",
    "Sussex Police",
    "Thames Valley Police",
    "Warwickshire Police",
    "West Mercia Police",
    "West Midlands Police",
    "West Yorkshire Police",
    "Wiltshire Police",
)

# words of a unitary / metropolitan / Welsh authority's name -> force (first match wins)
_BY_NAME = (
    (("Hartlepool", "Middlesbrough", "Redcar", "Stockton"), "Cleveland Police"),
    (("Darlington", "County Durham"), "Durham Constabulary"),
    (
        ("Northumberland", "Newcastle", "Gateshead", "Tyneside", "Sunderland"),
        "Northumbria Police",
    ),
    (("Halton", "Warrington", "Cheshire"), "Cheshire Constabulary"),
    (("Blackburn", "Blackpool"), "Lancashire Constabulary"),
    (("Hull", "East Riding", "Lincolnshire"), "Humberside Police"),
    (("York",), "North Yorkshire Police"),
    (("Derby",), "Derbyshire Constabulary"),
    (("Leicester", "Rutland"), "Leicestershire Police"),
    (("Nottingham",), "Nottinghamshire Police"),
    (("Herefordshire", "Telford", "Shropshire"), "West Mercia Police"),
    (("Stoke",), "Staffordshire Police"),
    (
        ("Bath", "Bristol", "North Somerset", "South Gloucestershire"),
        "Avon and Somerset Constabulary",
    ),
    (("Plymouth", "Torbay", "Cornwall", "Scilly"), "Devon & Cornwall Police"),
    (("Swindon", "Wiltshire"), "Wiltshire Police"),
    (("Peterborough",), "Cambridgeshire Constabulary"),
    (("Luton", "Bedford"), "Bedfordshire Police"),
    (("Southend", "Thurrock"), "Essex Police"),
    (("Medway",), "Kent Police"),
    (
        ("Bracknell", "Berkshire", "Reading", "Slough", "Windsor", "Wokingham", "Milton Keynes"),
        "Thames Valley Police",
    ),
    (("Buckinghamshire",), "Thames Valley Police"),
    (("Brighton",), "Sussex Police"),
    (("Portsmouth", "Southampton", "Isle of Wight"), "Hampshire Constabulary"),
    (("Bournemouth", "Dorset"), "Dorset Police"),
    (("Northamptonshire",), "Northamptonshire Police"),
    (("Somerset",), "Avon and Somerset Constabulary"),
    (
        ("Bolton", "Bury", "Manchester", "Oldham", "Rochdale", "Salford", "Stockport"),
        "Greater Manchester Police",
    ),
    (("Tameside", "Trafford", "Wigan"), "Greater Manchester Police"),
    (("Knowsley", "Liverpool", "Helens", "Sefton", "Wirral"), "Merseyside Police"),
    (("Barnsley", "Doncaster", "Rotherham", "Sheffield"), "South Yorkshire Police"),
    (("Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"), "West Yorkshire Police"),
    (
        ("Birmingham", "Coventry", "Dudley", "Sandwell", "Solihull", "Walsall", "Wolverhampton"),
        "West Midlands Police",
    ),
    (
        ("Anglesey", "Gwynedd", "Conwy", "Denbighshire", "Flintshire", "Wrexham"),
        "North Wales Police",
    ),
    (("Powys", "Ceredigion", "Pembrokeshire", "Carmarthenshire"), "Dyfed-Powys Police"),
    (
        ("Monmouthshire", "Newport", "Torfaen", "Blaenau Gwent", "Caerphilly"),
        "Gwent Police",
    ),
)

# shire districts: first E07 code number of a county block -> force
_E07_BLOCKS = (
    (0, "Thames Valley Police"),
    (8, "Cambridgeshire Constabulary"),
    (26, "Cumbria Constabulary"),
    (32, "Derbyshire Constabulary"),
    (40, "Devon & Cornwall Police"),
    (48, "Dorset Police"),
    (61, "Sussex Police"),
    (66, "Essex Police"),
    (78, "Gloucestershire Constabulary"),
    (84, "Hampshire Constabulary"),
    (95, "Hertfordshire Constabulary"),
    (105, "Kent Police"),
    (117, "Lancashire Constabulary"),
    (129, "Leicestershire Police"),
    (136, "Lincolnshire Police"),
    (143, "Norfolk Constabulary"),
    (150, "Northamptonshire Police"),
    (163, "North Yorkshire Police"),
    (170, "Nottinghamshire Police"),
    (177, "Thames Valley Police"),
    (187, "Avon and Somerset Constabulary"),
    (192, "Staffordshire Police"),
    (200, "Suffolk Constabulary"),
    (207, "Surrey Police"),
    (218, "Warwickshire Police"),
    (223, "Sussex Police"),
    (234, "West Mercia Police"),
    (240, "Hertfordshire Constabulary"),
    (244, "Suffolk Constabulary"),
)


def force_of(area_code: str, area_name: str) -> str:
    if area_code.startswith("E09"):
        return (
            "City of London Police" if area_code == "E09000001" else "Metropolitan Police Service"
        )
    if area_code.startswith("E07"):
        number = int(area_code[3:])
        return [force for start, force in _E07_BLOCKS if start <= number][-1]
    for words, force in _BY_NAME:
        if any(word.lower() in area_name.lower() for word in words):
            return force
    return "South Wales Police" if area_code.startswith("W") else "Thames Valley Police"


def authorities() -> list[dict[str, str]]:
    """Every authority of the reference list with its force."""
    with (REFERENCE / "local_authorities.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["force"] = force_of(row["area_code"], row["area_name"])
    return rows


def slug(force: str) -> str:
    """police.uk file-name form of a force: 'Devon & Cornwall Police' -> 'devon-and-cornwall'."""
    words = force.replace("&", "and").replace("-", " ").lower().split()
    drop = {"police", "constabulary", "service"}
    kept = [w for w in words if w not in drop] or words
    return "-".join(kept)
