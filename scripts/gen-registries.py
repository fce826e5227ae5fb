#!/usr/bin/env python3
"""Generate crates/uslugi-core/data/registries.json: synthetic people for the
simulated state registries (МВД passports, СФР СНИЛС, ФНС ИНН).

Every person is fictional. The output is deterministic (fixed seed): running the
script again rewrites the same file byte for byte. Python 3.11 standard library only.

    python3 scripts/gen-registries.py            # write the file and self-check it
    python3 scripts/gen-registries.py --check    # only self-check the existing file

Cases (field "case" of each person):
  ok                everything matches in all three registries;
  passport_invalid  МВД has the passport with status "invalid" (declared lost / invalid);
  passport_expired  МВД has it with status "expired": the holder passed 20 or 45 more
                    than 90 days ago and still has the passport issued at 14 or 20;
  passport_unknown  МВД has no record for that series and number;
  snils_mismatch    СФР has the СНИЛС, but it belongs to someone else (another name and
                    birth date; often a relative with the same surname);
  snils_unknown     the СНИЛС is valid by its check number, but СФР has no record;
  inn_mismatch      ФНС has the person's passport with another (correct) ИНН; the ИНН the
                    person gives is valid by its check digits but is in no registry.
In every case only that one check fails; the other registries agree with the person.
"""

from __future__ import annotations

import json
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 20261123
TODAY = date(2026, 11, 23)
PASSPORT_INTRODUCED = date(1997, 10, 1)
# A valid passport must have been issued at 45 on or after 01.10.1997, so nobody born
# before 01.10.1952 can hold one under the rules below: births start in 1953.
BIRTH_MIN = date(1953, 1, 1)
BIRTH_MAX = date(2010, 12, 31)
GRACE_DAYS = 90  # a passport is replaced within 90 days after turning 20 or 45

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "uslugi-core" / "data" / "registries.json"
NOTE = "Synthetic people for the simulated registries. Not real persons."

N_PEOPLE = 300
FAILING_CASES = [
    "passport_invalid",
    "passport_expired",
    "passport_unknown",
    "snils_mismatch",
    "snils_unknown",
    "inn_mismatch",
]
CASES = ["ok", *FAILING_CASES]
PER_FAILING_CASE = 10  # 6 × 10 = 60 failing, 240 ok (80 %)

# --------------------------------------------------------------------------- regions

# okato: first two digits of the passport series; code: ИНН and division code prefix.
REGIONS = {
    "msk": {
        "okato": "45",
        "code": "77",
        "issuer": "ГУ МВД России по г. Москве",
        "prefix": "",
        "offices": 51,
        "weight": 30,
        "cities": [
            ("г. Москва", 1, [
                "ул. Тверская", "ул. Профсоюзная", "Ленинский пр-т", "ул. Маросейка",
                "ул. Мясницкая", "Кутузовский пр-т", "ул. Нижняя Масловка",
                "ул. Академика Королёва", "ул. Бутырская", "Варшавское ш.",
                "ул. Народного Ополчения", "ул. Новослободская", "ул. Большая Серпуховская",
                "ул. Вавилова", "ул. Пятницкая", "Мичуринский пр-т", "ул. Лётчика Бабушкина",
                "ул. Шаболовка", "Рязанский пр-т", "ул. Грина",
            ]),
        ],
    },
    "spb": {
        "okato": "40",
        "code": "78",
        "issuer": "ГУ МВД России по г. Санкт-Петербургу и Ленинградской области",
        "prefix": "",
        "offices": 42,
        "weight": 18,
        "cities": [
            ("г. Санкт-Петербург", 1, [
                "Невский пр-т", "ул. Марата", "Лиговский пр-т", "ул. Садовая",
                "Московский пр-т", "ул. Савушкина", "пр-т Просвещения", "ул. Бассейная",
                "Гражданский пр-т", "наб. реки Фонтанки", "ул. Ленсовета",
                "ул. Кораблестроителей", "Большой пр-т В.О.", "ул. Ефимова",
                "пр-т Ветеранов", "ул. Рентгена",
            ]),
        ],
    },
    "mo": {
        "okato": "46",
        "code": "50",
        "issuer": "ГУ МВД России по Московской области",
        "prefix": "Московская обл., ",
        "offices": 81,
        "weight": 15,
        "cities": [
            (city, 1, [
                "ул. Ленина", "ул. Московская", "ул. Советская", "ул. Мира", "ул. Гагарина",
                "ул. Центральная", "ул. Садовая", "ул. Школьная", "пр-т Мира",
                "ул. Октябрьская", "ул. Молодёжная", "ул. Пролетарская",
            ])
            for city in [
                "г. Химки", "г. Подольск", "г. Балашиха", "г. Мытищи", "г. Королёв",
                "г. Люберцы", "г. Красногорск", "г. Одинцово", "г. Серпухов", "г. Коломна",
            ]
        ],
    },
    "sverd": {
        "okato": "65",
        "code": "66",
        "issuer": "ГУ МВД России по Свердловской области",
        "prefix": "Свердловская обл., ",
        "offices": 85,
        "weight": 9,
        "cities": [
            ("г. Екатеринбург", 6, [
                "ул. Малышева", "ул. Вайнера", "пр-т Ленина", "ул. 8 Марта",
                "ул. Белинского", "ул. Куйбышева", "ул. Челюскинцев", "ул. Репина",
                "ул. Уральская", "ул. Академика Бардина",
            ]),
            ("г. Нижний Тагил", 1, ["пр-т Ленина", "ул. Пархоменко", "ул. Газетная"]),
            ("г. Каменск-Уральский", 1, ["ул. Кирова", "пр-т Победы", "ул. Строителей"]),
        ],
    },
    "tat": {
        "okato": "92",
        "code": "16",
        "issuer": "МВД по Республике Татарстан",
        "prefix": "Республика Татарстан, ",
        "offices": 90,
        "weight": 10,
        "cities": [
            ("г. Казань", 5, [
                "ул. Баумана", "ул. Пушкина", "пр-т Победы", "ул. Чистопольская",
                "ул. Декабристов", "ул. Фатыха Амирхана", "ул. Гвардейская",
                "ул. Кремлёвская", "ул. Габдуллы Тукая",
            ]),
            ("г. Набережные Челны", 2, ["пр-т Мира", "ул. Шамиля Усманова", "пр-т Раиса Беляева"]),
            ("г. Альметьевск", 1, ["ул. Ленина", "ул. Шевченко", "ул. Радищева"]),
        ],
    },
    "nsk": {
        "okato": "50",
        "code": "54",
        "issuer": "ГУ МВД России по Новосибирской области",
        "prefix": "Новосибирская обл., ",
        "offices": 83,
        "weight": 8,
        "cities": [
            ("г. Новосибирск", 6, [
                "Красный пр-т", "ул. Ленина", "ул. Кирова", "ул. Гоголя", "ул. Фрунзе",
                "ул. Титова", "ул. Челюскинцев", "ул. Станиславского",
                "ул. Богдана Хмельницкого", "ул. Мичурина",
            ]),
            ("г. Бердск", 1, ["ул. Ленина", "ул. Островского", "ул. Попова"]),
        ],
    },
    "krd": {
        "okato": "03",
        "code": "23",
        "issuer": "ГУ МВД России по Краснодарскому краю",
        "prefix": "Краснодарский край, ",
        "offices": 75,
        "weight": 10,
        "cities": [
            ("г. Краснодар", 5, [
                "ул. Красная", "ул. Северная", "ул. Ставропольская", "ул. Тургенева",
                "ул. Московская", "ул. Гаврилова", "ул. Длинная", "ул. Кубанская Набережная",
            ]),
            ("г. Сочи", 2, ["Курортный пр-т", "ул. Навагинская", "ул. Донская"]),
            ("г. Новороссийск", 1, ["ул. Советов", "ул. Героев Десантников", "ул. Видова"]),
        ],
    },
}
REGION_KEYS = list(REGIONS)

# Birth places outside the region of residence.
OTHER_BIRTH_PLACES = [
    "г. Тула", "г. Воронеж", "г. Омск", "г. Саратов", "г. Самара", "г. Пермь",
    "г. Челябинск", "г. Уфа", "г. Ярославль", "г. Иркутск", "г. Ростов-на-Дону",
    "г. Мурманск", "г. Курск", "г. Киров", "г. Тверь", "г. Рязань", "г. Барнаул",
    "г. Оренбург", "г. Владимир", "г. Калуга",
]
# How a city was called in birth certificates before it was renamed.
OLD_CITY_NAMES = {  # city: (renamed in year, old name)
    "г. Санкт-Петербург": (1991, "г. Ленинград"),
    "г. Екатеринбург": (1991, "г. Свердловск"),
    "г. Самара": (1991, "г. Куйбышев"),
    "г. Тверь": (1990, "г. Калинин"),
    "г. Королёв": (1996, "г. Калининград"),
}

# --------------------------------------------------------------------------- names

# Male first name -> (male patronymic, female patronymic).
PATRONYMICS = {
    "Александр": ("Александрович", "Александровна"),
    "Алексей": ("Алексеевич", "Алексеевна"),
    "Анатолий": ("Анатольевич", "Анатольевна"),
    "Андрей": ("Андреевич", "Андреевна"),
    "Антон": ("Антонович", "Антоновна"),
    "Артём": ("Артёмович", "Артёмовна"),
    "Борис": ("Борисович", "Борисовна"),
    "Вадим": ("Вадимович", "Вадимовна"),
    "Валерий": ("Валерьевич", "Валерьевна"),
    "Василий": ("Васильевич", "Васильевна"),
    "Виктор": ("Викторович", "Викторовна"),
    "Виталий": ("Витальевич", "Витальевна"),
    "Владимир": ("Владимирович", "Владимировна"),
    "Владислав": ("Владиславович", "Владиславовна"),
    "Вячеслав": ("Вячеславович", "Вячеславовна"),
    "Геннадий": ("Геннадьевич", "Геннадьевна"),
    "Глеб": ("Глебович", "Глебовна"),
    "Григорий": ("Григорьевич", "Григорьевна"),
    "Даниил": ("Даниилович", "Данииловна"),
    "Денис": ("Денисович", "Денисовна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Егор": ("Егорович", "Егоровна"),
    "Иван": ("Иванович", "Ивановна"),
    "Игорь": ("Игоревич", "Игоревна"),
    "Илья": ("Ильич", "Ильинична"),
    "Кирилл": ("Кириллович", "Кирилловна"),
    "Константин": ("Константинович", "Константиновна"),
    "Лев": ("Львович", "Львовна"),
    "Леонид": ("Леонидович", "Леонидовна"),
    "Максим": ("Максимович", "Максимовна"),
    "Марк": ("Маркович", "Марковна"),
    "Матвей": ("Матвеевич", "Матвеевна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Никита": ("Никитич", "Никитична"),
    "Николай": ("Николаевич", "Николаевна"),
    "Олег": ("Олегович", "Олеговна"),
    "Павел": ("Павлович", "Павловна"),
    "Пётр": ("Петрович", "Петровна"),
    "Роман": ("Романович", "Романовна"),
    "Руслан": ("Русланович", "Руслановна"),
    "Семён": ("Семёнович", "Семёновна"),
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Станислав": ("Станиславович", "Станиславовна"),
    "Степан": ("Степанович", "Степановна"),
    "Тимофей": ("Тимофеевич", "Тимофеевна"),
    "Тимур": ("Тимурович", "Тимуровна"),
    "Фёдор": ("Фёдорович", "Фёдоровна"),
    "Юрий": ("Юрьевич", "Юрьевна"),
    "Ярослав": ("Ярославович", "Ярославовна"),
    # Tatar names
    "Айдар": ("Айдарович", "Айдаровна"),
    "Азат": ("Азатович", "Азатовна"),
    "Булат": ("Булатович", "Булатовна"),
    "Ильдар": ("Ильдарович", "Ильдаровна"),
    "Ильнур": ("Ильнурович", "Ильнуровна"),
    "Камиль": ("Камилевич", "Камилевна"),
    "Марат": ("Маратович", "Маратовна"),
    "Радик": ("Радикович", "Радиковна"),
    "Рамиль": ("Рамилевич", "Рамилевна"),
    "Ринат": ("Ринатович", "Ринатовна"),
    "Рустам": ("Рустамович", "Рустамовна"),
}

# First names by the era of birth: "old" up to 1970, "mid" 1971–1992, "new" from 1993.
MALE_FIRST = {
    "old": ["Александр", "Алексей", "Анатолий", "Андрей", "Борис", "Валерий", "Василий",
            "Виктор", "Владимир", "Вячеслав", "Геннадий", "Григорий", "Евгений", "Игорь",
            "Леонид", "Михаил", "Николай", "Олег", "Павел", "Пётр", "Сергей", "Юрий",
            "Фёдор", "Константин", "Виталий", "Семён", "Степан", "Иван"],
    "mid": ["Александр", "Алексей", "Андрей", "Антон", "Артём", "Вадим", "Виталий",
            "Владимир", "Владислав", "Денис", "Дмитрий", "Евгений", "Игорь", "Илья",
            "Кирилл", "Константин", "Максим", "Михаил", "Никита", "Олег", "Павел", "Роман",
            "Руслан", "Сергей", "Станислав", "Иван"],
    "new": ["Артём", "Александр", "Максим", "Иван", "Дмитрий", "Даниил", "Кирилл", "Никита",
            "Егор", "Матвей", "Михаил", "Илья", "Тимофей", "Андрей", "Алексей", "Роман",
            "Владислав", "Ярослав", "Фёдор", "Степан", "Глеб", "Семён", "Марк", "Лев"],
}
FEMALE_FIRST = {
    "old": ["Галина", "Валентина", "Людмила", "Нина", "Тамара", "Надежда", "Любовь", "Вера",
            "Татьяна", "Наталья", "Ольга", "Ирина", "Елена", "Светлана", "Лидия", "Зинаида",
            "Раиса", "Антонина", "Марина", "Лариса"],
    "mid": ["Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Юлия", "Екатерина",
            "Анна", "Мария", "Марина", "Оксана", "Анастасия", "Ксения", "Евгения",
            "Виктория", "Алёна", "Дарья", "Надежда"],
    "new": ["Анастасия", "Мария", "Анна", "Дарья", "Полина", "Софья", "Виктория",
            "Екатерина", "Алина", "Ксения", "Елизавета", "Варвара", "Алёна", "Валерия",
            "Арина", "Ульяна", "Кира", "Вероника", "Александра", "Алиса"],
}
TATAR_MALE_FIRST = ["Рустам", "Ринат", "Айдар", "Ильдар", "Марат", "Тимур", "Радик", "Азат",
                    "Ильнур", "Рамиль", "Булат", "Камиль", "Руслан"]
TATAR_FEMALE_FIRST = ["Гульнара", "Алсу", "Лилия", "Резеда", "Динара", "Эльвира", "Камила",
                      "Айгуль", "Гузель", "Диляра", "Ляйсан", "Зульфия"]

# Surnames in the masculine form; the feminine is derived by feminine().
SURNAMES = [
    "Смирнов", "Иванов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
    "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв",
    "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв",
    "Белов", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов",
    "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков",
    "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов",
    "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов",
    "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев",
    "Чернышёв", "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов",
    "Филатов", "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов",
    "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников",
    "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов",
    "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев",
    "Бирюков", "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев",
    "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов",
    "Князев", "Цветков", "Левин", "Рябов", "Воронцов", "Селезнёв", "Артёмов", "Лёвкин",
    "Савицкий", "Покровский", "Полянский", "Вишневский", "Добровольский", "Ковальский",
    "Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Черных", "Седых",
]
TATAR_SURNAMES = [
    "Хабибуллин", "Сафин", "Галиев", "Нуриев", "Гарипов", "Закиров", "Валиев", "Шарипов",
    "Ахметов", "Гилязов", "Мухаметшин", "Зарипов", "Хайруллин", "Файзуллин", "Абдуллин",
    "Ганиев", "Садыков", "Тагиров", "Гатауллин", "Исмагилов",
]
# People without a patronymic; these surnames do not change with sex.
NO_PATRONYMIC_SURNAMES = ["Ким", "Цой", "Пак", "Шмидт"]

# Combinations that name well-known people; never generated.
FAMOUS = {
    ("Медведев", "Дмитрий", "Анатольевич"), ("Романов", "Николай", "Александрович"),
    ("Романов", "Михаил", "Фёдорович"), ("Романов", "Александр", "Николаевич"),
    ("Королёв", "Сергей", "Павлович"), ("Крылов", "Иван", "Андреевич"),
    ("Попов", "Александр", "Степанович"), ("Павлов", "Иван", "Петрович"),
    ("Семёнов", "Николай", "Николаевич"), ("Быков", "Дмитрий", "Львович"),
    ("Шевченко", "Андрей", "Николаевич"), ("Смирнов", "Андрей", "Сергеевич"),
    ("Жуков", "Георгий", "Константинович"), ("Соловьёв", "Владимир", "Сергеевич"),
    ("Михалков", "Никита", "Сергеевич"), ("Леонов", "Алексей", "Архипович"),
    ("Иванов", "Иван", "Иванович"), ("Петров", "Пётр", "Петрович"),
    ("Сидоров", "Сидор", "Сидорович"),
}


def is_famous(last: str, first: str, middle: str | None) -> bool:
    return any(last in (f[0], feminine(f[0])) and first == f[1] and middle == f[2]
               for f in FAMOUS)


def feminine(surname: str) -> str:
    """Иванов → Иванова, Соловьёв → Соловьёва, Ильин → Ильина, Савицкий → Савицкая."""
    if surname.endswith(("ский", "цкий")):
        return surname[:-2] + "ая"
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    return surname  # Шевченко, Черных, Ким


def era(year: int) -> str:
    return "old" if year <= 1970 else ("mid" if year <= 1992 else "new")


# --------------------------------------------------------------------------- numbers

SNILS_WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, 1]
INN_W11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
INN_W12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
SNILS_LAST_UNCHECKED = 1_001_998


def snils_check(nine: str) -> int:
    s = sum(int(d) * w for d, w in zip(nine, SNILS_WEIGHTS))
    if s < 100:
        return s
    if s in (100, 101):
        return 0
    r = s % 101
    return 0 if r == 100 else r


def snils_format(nine: str) -> str:
    return f"{nine[0:3]}-{nine[3:6]}-{nine[6:9]} {snils_check(nine):02d}"


def snils_is_valid(snils: str) -> bool:
    m = re.fullmatch(r"(\d{3})-(\d{3})-(\d{3}) (\d{2})", snils)
    if not m:
        return False
    nine = m.group(1) + m.group(2) + m.group(3)
    return int(nine) > SNILS_LAST_UNCHECKED and int(m.group(4)) == snils_check(nine)


def inn_checks(ten: str) -> str:
    d = [int(c) for c in ten]
    n11 = sum(x * w for x, w in zip(d, INN_W11)) % 11 % 10
    n12 = sum(x * w for x, w in zip(d + [n11], INN_W12)) % 11 % 10
    return f"{n11}{n12}"


def inn_is_valid(inn: str) -> bool:
    return bool(re.fullmatch(r"\d{12}", inn)) and inn_checks(inn[:10]) == inn[10:]


# --------------------------------------------------------------------------- dates


def fmt(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def parse(s: str) -> date:
    dd, mm, yyyy = s.split(".")
    return date(int(yyyy), int(mm), int(dd))


def birthday(bd: date, years: int) -> date:
    return date(bd.year + years, bd.month, bd.day)  # no one is born on 29 February


def age_on(bd: date, day: date) -> int:
    return day.year - bd.year - ((day.month, day.day) < (bd.month, bd.day))


def milestone(age: int) -> int:
    """The age at which the passport that is current at `age` is issued."""
    return 14 if age < 20 else (20 if age < 45 else 45)


def is_working_day(d: date) -> bool:
    return d.weekday() != 6 and not (d.month == 1 and d.day <= 8)


# --------------------------------------------------------------------------- generator


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_snils: set[str] = set()
        self.used_inn: set[str] = set()
        self.used_passports: set[str] = set()
        self.used_people: set[tuple] = set()
        self.division_codes = {key: self._division_pool(key) for key in REGION_KEYS}

    # -- numbers

    def _division_pool(self, key: str) -> list[str]:
        code = REGIONS[key]["code"]
        pool: list[str] = []
        while len(pool) < 12:
            c = f"{code}{self.rng.choice('002')}-{self.rng.randint(1, 120):03d}"
            if c not in pool:
                pool.append(c)
        return pool

    def snils(self) -> str:
        while True:
            nine = f"{self.rng.randint(SNILS_LAST_UNCHECKED + 1, 999_999_999):09d}"
            if any(nine[i] == nine[i + 1] == nine[i + 2] for i in range(7)):
                continue  # no digit three times in a row, as in issued numbers
            s = snils_format(nine)
            if s not in self.used_snils:
                self.used_snils.add(s)
                return s

    def inn(self, region_key: str) -> str:
        region = REGIONS[region_key]
        while True:
            office = self.rng.randint(1, region["offices"])
            ten = f"{region['code']}{office:02d}{self.rng.randint(0, 999_999):06d}"
            inn = ten + inn_checks(ten)
            if inn not in self.used_inn:
                self.used_inn.add(inn)
                return inn

    def passport_number(self, series: str) -> str:
        while True:
            number = f"{self.rng.randint(1, 999_999):06d}"
            if series + number not in self.used_passports:
                self.used_passports.add(series + number)
                return number

    # -- dates

    def birth_date(self, lo: date, hi: date) -> date:
        while True:
            d = lo + timedelta(days=self.rng.randint(0, (hi - lo).days))
            if not (d.month == 2 and d.day == 29):
                return d

    def issue_date(self, bd: date, at_age: int) -> date:
        start = birthday(bd, at_age)
        last = min(start + timedelta(days=GRACE_DAYS), TODAY)
        span = [start + timedelta(days=i) for i in range((last - start).days + 1)]
        working = [d for d in span if is_working_day(d)] or span
        return self.rng.choice(working)

    # -- people

    def name(self, sex: str, bd: date, region_key: str, surname: str | None = None,
             patronymic: bool = True) -> tuple[str, str, str | None]:
        rng = self.rng
        if surname is None:
            tatar = region_key == "tat" and rng.random() < 0.55
            surname = rng.choice(TATAR_SURNAMES if tatar else SURNAMES)
        else:
            tatar = surname in TATAR_SURNAMES
        father_year = bd.year - rng.randint(22, 38)
        if tatar:
            first = rng.choice(TATAR_MALE_FIRST if sex == "male" else TATAR_FEMALE_FIRST)
            father = rng.choice(TATAR_MALE_FIRST)
        else:
            pool = MALE_FIRST if sex == "male" else FEMALE_FIRST
            first = rng.choice(pool[era(bd.year)])
            father = rng.choice(MALE_FIRST[era(father_year)])
        last = surname if sex == "male" else feminine(surname)
        middle = PATRONYMICS[father][0 if sex == "male" else 1] if patronymic else None
        return last, first, middle

    def address(self, region_key: str) -> tuple[str, str]:
        """(address, city) in the region."""
        rng = self.rng
        region = REGIONS[region_key]
        cities = region["cities"]
        city, _, streets = rng.choices(cities, weights=[c[1] for c in cities])[0]
        house = rng.choice([rng.randint(1, 30), rng.randint(1, 30), rng.randint(1, 150)])
        parts = [f"{region['prefix']}{city}", rng.choice(streets), f"д. {house}"]
        if rng.random() < 0.2:
            parts.append(f"корп. {rng.randint(1, 4)}")
        if rng.random() < 0.92:
            parts.append(f"кв. {rng.randint(1, 280)}")
        return ", ".join(parts), city

    def birth_place(self, bd: date, home_city: str) -> str:
        rng = self.rng
        place = home_city if rng.random() < 0.72 else rng.choice(OTHER_BIRTH_PLACES)
        old = OLD_CITY_NAMES.get(place)
        if old and bd.year < old[0]:
            place = old[1]
        return place

    def person(self, case: str, *, sex: str | None = None, bd: date | None = None,
               region_key: str | None = None, full_name: tuple | None = None,
               no_patronymic: bool = False) -> dict:
        rng = self.rng
        sex = sex or rng.choice(["male", "female"])
        region_key = region_key or rng.choices(
            REGION_KEYS, weights=[REGIONS[k]["weight"] for k in REGION_KEYS])[0]
        region = REGIONS[region_key]

        # Birth date and the age at which the held passport was issued.
        if bd is None:
            if case == "passport_expired":
                if rng.random() < 0.5:  # still has the passport issued at 14, now 20–24
                    lo = date(TODAY.year - 25, TODAY.month, TODAY.day) + timedelta(days=1)
                    hi = birthday(TODAY, -20) - timedelta(days=GRACE_DAYS + 1)
                else:  # still has the passport issued at 20, now 45–49
                    lo = date(1977, 10, 1)
                    hi = birthday(TODAY, -45) - timedelta(days=GRACE_DAYS + 1)
                bd = self.birth_date(lo, hi)
            else:
                bd = self.birth_date(BIRTH_MIN, BIRTH_MAX)
        age = age_on(bd, TODAY)
        current = milestone(age)
        held = {14: 14, 20: 14, 45: 20}[current] if case == "passport_expired" else current
        if case == "passport_expired":
            assert TODAY > birthday(bd, current) + timedelta(days=GRACE_DAYS)

        # Name, unique together with the birth date.
        while True:
            if full_name is not None:
                last, first, middle = full_name
            elif no_patronymic:
                last = rng.choice(NO_PATRONYMIC_SURNAMES)
                first = rng.choice((MALE_FIRST if sex == "male" else FEMALE_FIRST)[era(bd.year)])
                middle = None
            else:
                last, first, middle = self.name(sex, bd, region_key)
            key = (last, first, middle, bd)
            if key not in self.used_people and not is_famous(last, first, middle):
                self.used_people.add(key)
                break
            assert full_name is None, f"hand-picked person is not unique: {full_name}"

        issued_on = self.issue_date(bd, held)
        series = region["okato"] + f"{issued_on.year % 100:02d}"
        number = self.passport_number(series)
        address, city = self.address(region_key)
        # ИНН is usually from the region of residence, sometimes from where one lived before.
        inn_region = region_key if rng.random() < 0.85 else rng.choice(REGION_KEYS)
        return {
            "id": None,
            "last_name": last,
            "first_name": first,
            "middle_name": middle,
            "sex": sex,
            "birth_date": fmt(bd),
            "birth_place": self.birth_place(bd, city),
            "passport": {
                "series": series,
                "number": number,
                "issued_on": fmt(issued_on),
                "issuer": region["issuer"],
                "division_code": rng.choice(self.division_codes[region_key]),
            },
            "snils": self.snils(),
            "inn": self.inn(inn_region),
            "address": address,
            "case": case,
            "demo": False,
            "_region": region_key,
        }

    def other_holder(self, person: dict) -> dict:
        """Someone else whose СНИЛС the person gives: often a relative with the same surname."""
        rng = self.rng
        bd_person = parse(person["birth_date"])
        sex = rng.choice(["male", "female"])
        relative = rng.random() < 0.6
        while True:
            bd = self.birth_date(BIRTH_MIN, BIRTH_MAX)
            if bd == bd_person:
                continue
            if relative:
                masc = next((s for s in SURNAMES + TATAR_SURNAMES
                             if person["last_name"] in (s, feminine(s))), None)
                if masc is None:  # invariant surname such as Ким
                    masc = person["last_name"]
                last, first, middle = self.name(sex, bd, person["_region"], surname=masc)
            else:
                last, first, middle = self.name(sex, bd, person["_region"])
            key = (last, first, middle, bd)
            if (first != person["first_name"] and key not in self.used_people
                    and not is_famous(last, first, middle)):
                self.used_people.add(key)
                return {"last_name": last, "first_name": first, "middle_name": middle,
                        "birth_date": fmt(bd), "sex": sex}


# Hand-picked demo people: (case, sex, birth date, region, (last, first, middle)).
DEMO = [
    ("ok", "female", date(1991, 3, 14), "msk", ("Смирнова", "Анна", "Сергеевна")),
    ("ok", "male", date(1985, 7, 2), "spb", ("Кузнецов", "Дмитрий", "Александрович")),
    ("ok", "female", date(1978, 11, 21), "mo", ("Фёдорова", "Ольга", "Николаевна")),
    ("ok", "male", date(1996, 5, 9), "tat", ("Хабибуллин", "Ринат", "Маратович")),
    ("ok", "male", date(2008, 1, 30), "sverd", ("Семёнов", "Артём", "Игоревич")),
    ("ok", "female", date(1972, 8, 17), "krd", ("Белова", "Екатерина", "Андреевна")),
    ("passport_invalid", "male", date(1988, 4, 26), "nsk", ("Орлов", "Павел", "Викторович")),
    ("snils_mismatch", "female", date(1994, 9, 3), "msk", ("Зайцева", "Мария", "Владимировна")),
    ("inn_mismatch", "male", date(1969, 12, 11), "spb", ("Громов", "Константин", "Евгеньевич")),
]
N_NO_PATRONYMIC = 4


def build(seed: int = SEED) -> dict:
    g = Generator(seed)
    rng = g.rng

    demo = [g.person(case, sex=sex, bd=bd, region_key=reg, full_name=name)
            for case, sex, bd, reg, name in DEMO]
    for p in demo:
        p["demo"] = True

    counts = {c: sum(1 for p in demo if p["case"] == c) for c in CASES}
    todo: list[str] = []
    for c in FAILING_CASES:
        todo += [c] * (PER_FAILING_CASE - counts[c])
    todo += ["ok"] * (N_PEOPLE - len(demo) - len(todo))
    rng.shuffle(todo)
    ok_positions = [i for i, c in enumerate(todo) if c == "ok"]
    no_patronymic = set(rng.sample(ok_positions, N_NO_PATRONYMIC))
    rest = [g.person(c, no_patronymic=i in no_patronymic) for i, c in enumerate(todo)]

    people = demo + rest
    for i, p in enumerate(people, 1):
        p["id"] = f"p{i:03d}"

    mvd, sfr, fns = [], [], []
    for p in people:
        case = p["case"]
        name = {k: p[k] for k in ("last_name", "first_name", "middle_name")}
        pp = p["passport"]
        if case != "passport_unknown":
            status = {"passport_invalid": "invalid", "passport_expired": "expired"}.get(case, "valid")
            mvd.append({"series": pp["series"], "number": pp["number"], **name,
                        "birth_date": p["birth_date"], "issued_on": pp["issued_on"],
                        "division_code": pp["division_code"], "status": status})
        if case == "snils_mismatch":
            other = g.other_holder(p)
            sfr.append({"snils": p["snils"], **{k: other[k] for k in (
                "last_name", "first_name", "middle_name", "birth_date", "sex")}})
        elif case != "snils_unknown":
            sfr.append({"snils": p["snils"], **name, "birth_date": p["birth_date"], "sex": p["sex"]})
        inn = p["inn"]
        if case == "inn_mismatch":
            # ФНС knows the right ИНН for this passport; the one the person gives is another,
            # valid by its check digits but issued to nobody.
            inn = g.inn(p["_region"])
        fns.append({"inn": inn, **name, "birth_date": p["birth_date"],
                    "passport_series": pp["series"], "passport_number": pp["number"]})

    for p in people:
        del p["_region"]
    mvd.sort(key=lambda r: (r["series"], r["number"]))
    sfr.sort(key=lambda r: r["snils"])
    fns.sort(key=lambda r: r["inn"])
    return {"note": NOTE, "mvd_passports": mvd, "sfr_snils": sfr, "fns_inn": fns, "people": people}


def dump(data: dict) -> str:
    """Pretty JSON with one record per line."""
    out = ["{", f'  "note": {json.dumps(data["note"], ensure_ascii=False)},']
    keys = ["mvd_passports", "sfr_snils", "fns_inn", "people"]
    for i, key in enumerate(keys):
        rows = [f"    {json.dumps(r, ensure_ascii=False)}" for r in data[key]]
        out.append(f'  "{key}": [')
        out.append(",\n".join(rows))
        out.append("  ]" + ("," if i < len(keys) - 1 else ""))
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- self-check

OKATO_BY_CODE = {r["code"]: (k, r) for k, r in REGIONS.items()}
REGION_BY_OKATO = {r["okato"]: k for k, r in REGIONS.items()}
DATE_RE = re.compile(r"\d{2}\.\d{2}\.\d{4}")
ALL_FIRST = {
    "male": set(sum(MALE_FIRST.values(), [])) | set(TATAR_MALE_FIRST),
    "female": set(sum(FEMALE_FIRST.values(), [])) | set(TATAR_FEMALE_FIRST),
}
MALE_PATRONYMICS = {m for m, _ in PATRONYMICS.values()}
FEMALE_PATRONYMICS = {f for _, f in PATRONYMICS.values()}
MASC_SURNAMES = set(SURNAMES + TATAR_SURNAMES + NO_PATRONYMIC_SURNAMES)
FEM_SURNAMES = {feminine(s) for s in MASC_SURNAMES}


def check(data: dict) -> list[str]:
    errors: list[str] = []

    def err(msg: str) -> None:
        errors.append(msg)

    if set(data) != {"note", "mvd_passports", "sfr_snils", "fns_inn", "people"}:
        err(f"top-level keys: {sorted(data)}")
    if data["note"] != NOTE:
        err("note")
    people, mvd, sfr, fns = data["people"], data["mvd_passports"], data["sfr_snils"], data["fns_inn"]

    shapes = {
        "mvd_passports": ["series", "number", "last_name", "first_name", "middle_name",
                          "birth_date", "issued_on", "division_code", "status"],
        "sfr_snils": ["snils", "last_name", "first_name", "middle_name", "birth_date", "sex"],
        "fns_inn": ["inn", "last_name", "first_name", "middle_name", "birth_date",
                    "passport_series", "passport_number"],
        "people": ["id", "last_name", "first_name", "middle_name", "sex", "birth_date",
                   "birth_place", "passport", "snils", "inn", "address", "case", "demo"],
    }
    for key, fields in shapes.items():
        for r in data[key]:
            if list(r) != fields:
                err(f"{key}: fields {list(r)}")
    for p in people:
        if list(p["passport"]) != ["series", "number", "issued_on", "issuer", "division_code"]:
            err(f"{p['id']}: passport fields")

    # Dates.
    def date_ok(s: str, where: str) -> date | None:
        if not isinstance(s, str) or not DATE_RE.fullmatch(s):
            err(f"{where}: date {s!r}")
            return None
        try:
            return parse(s)
        except ValueError:
            err(f"{where}: no such day {s!r}")
            return None

    for key in ("mvd_passports", "sfr_snils", "fns_inn", "people"):
        for i, r in enumerate(data[key]):
            bd = date_ok(r["birth_date"], f"{key}[{i}]")
            if bd and not date(1940, 1, 1) <= bd <= date(2010, 12, 31):
                err(f"{key}[{i}]: birth date {r['birth_date']} outside 1940–2010")

    # Names: Cyrillic, gender agreement.
    name_re = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?")
    named = [("people", r, r["sex"]) for r in people] + [("sfr", r, r["sex"]) for r in sfr]
    named += [("mvd", r, None) for r in mvd] + [("fns", r, None) for r in fns]
    for where, r, sex in named:
        for f in ("last_name", "first_name"):
            if not name_re.fullmatch(r[f]):
                err(f"{where}: bad {f} {r[f]!r}")
        if r["middle_name"] is not None and not name_re.fullmatch(r["middle_name"]):
            err(f"{where}: bad middle_name {r['middle_name']!r}")
        if sex:
            last, first, middle = r["last_name"], r["first_name"], r["middle_name"]
            if first not in ALL_FIRST[sex]:
                err(f"{where}: first name {first} is not {sex}")
            if middle is not None and middle not in (
                    MALE_PATRONYMICS if sex == "male" else FEMALE_PATRONYMICS):
                err(f"{where}: patronymic {middle} is not {sex}")
            invariant = last in MASC_SURNAMES and last in FEM_SURNAMES
            if not invariant and last not in (MASC_SURNAMES if sex == "male" else FEM_SURNAMES):
                err(f"{where}: surname {last} does not agree with {sex}")

    # Numbers and uniqueness.
    for key, field, ok in (("people", "snils", snils_is_valid), ("sfr_snils", "snils", snils_is_valid),
                           ("people", "inn", inn_is_valid), ("fns_inn", "inn", inn_is_valid)):
        for r in data[key]:
            if not ok(r[field]):
                err(f"{key}: invalid {field} {r[field]}")
    for r in people + fns:
        if r["inn"][:2] not in OKATO_BY_CODE:
            err(f"ИНН {r['inn']}: unknown region code")

    ident = ("last_name", "first_name", "middle_name", "birth_date")

    def unique(values: list, what: str) -> None:
        if len(values) != len(set(values)):
            err(f"duplicate {what}")

    unique([p["id"] for p in people], "people ids")
    unique([p["snils"] for p in people], "СНИЛС in people")
    unique([r["snils"] for r in sfr], "СНИЛС in СФР")
    unique([p["inn"] for p in people], "ИНН in people")
    unique([r["inn"] for r in fns], "ИНН in ФНС")
    unique([p["passport"]["series"] + p["passport"]["number"] for p in people], "passport in people")
    unique([r["series"] + r["number"] for r in mvd], "passport in МВД")
    unique([r["passport_series"] + r["passport_number"] for r in fns], "passport in ФНС")
    mismatched = {p["snils"] for p in people if p["case"] == "snils_mismatch"}
    unique([tuple(p[f] for f in ident) for p in people]
           + [tuple(r[f] for f in ident) for r in sfr if r["snils"] in mismatched],
           "person (name and birth date)")
    for p in people:
        if is_famous(p["last_name"], p["first_name"], p["middle_name"]):
            err(f"{p['id']}: the name of a well-known person")
    if [p["id"] for p in people] != [f"p{i:03d}" for i in range(1, len(people) + 1)]:
        err("people ids are not p001…")

    # Passports.
    for p in people:
        pp, pid = p["passport"], p["id"]
        bd = parse(p["birth_date"])
        issued = date_ok(pp["issued_on"], pid)
        if not issued:
            continue
        if not re.fullmatch(r"\d{4}", pp["series"]) or not re.fullmatch(r"\d{6}", pp["number"]):
            err(f"{pid}: passport shape")
        if pp["series"][2:] != f"{issued.year % 100:02d}":
            err(f"{pid}: series {pp['series']} does not end with the issue year {issued.year}")
        region_key = REGION_BY_OKATO.get(pp["series"][:2])
        if region_key is None:
            err(f"{pid}: series {pp['series']} has an unknown region")
            continue
        region = REGIONS[region_key]
        if pp["issuer"] != region["issuer"]:
            err(f"{pid}: issuer {pp['issuer']} does not match series {pp['series']}")
        if not re.fullmatch(region["code"] + r"\d-\d{3}", pp["division_code"]):
            err(f"{pid}: division code {pp['division_code']} does not match the region")
        address_city = p["address"].removeprefix(region["prefix"]).split(",")[0]
        if not p["address"].startswith(region["prefix"]) or address_city not in [
                c[0] for c in region["cities"]]:
            err(f"{pid}: address {p['address']} is not in the region of the passport")
        if not PASSPORT_INTRODUCED <= issued <= TODAY:
            err(f"{pid}: issued {pp['issued_on']} outside 01.10.1997–today")
        age = age_on(bd, TODAY)
        if age < 14:
            err(f"{pid}: younger than 14")
        current = milestone(age)
        held = {14: 14, 20: 14, 45: 20}[current] if p["case"] == "passport_expired" else current
        start = birthday(bd, held)
        if not start <= issued <= start + timedelta(days=GRACE_DAYS):
            err(f"{pid}: issued {pp['issued_on']} is not within 90 days after turning {held}")
        if p["case"] == "passport_expired" and not TODAY > birthday(bd, current) + timedelta(days=GRACE_DAYS):
            err(f"{pid}: expired passport still within the 90 days of grace")

    # Cases and registry consistency.
    mvd_by = {r["series"] + r["number"]: r for r in mvd}
    sfr_by = {r["snils"]: r for r in sfr}
    fns_by_inn = {r["inn"]: r for r in fns}
    fns_by_pp = {r["passport_series"] + r["passport_number"]: r for r in fns}

    def same(a: dict, b: dict, fields=ident) -> bool:
        return all(a[f] == b[f] for f in fields)

    used_mvd, used_sfr, used_fns = set(), set(), set()
    for p in people:
        pid, case, pp = p["id"], p["case"], p["passport"]
        key = pp["series"] + pp["number"]
        if case not in CASES:
            err(f"{pid}: unknown case {case}")
        # МВД
        m = mvd_by.get(key)
        if case == "passport_unknown":
            if m:
                err(f"{pid}: passport_unknown but МВД has {key}")
        elif not m:
            err(f"{pid}: МВД has no {key}")
        else:
            used_mvd.add(key)
            want = {"passport_invalid": "invalid", "passport_expired": "expired"}.get(case, "valid")
            if m["status"] != want:
                err(f"{pid}: МВД status {m['status']}, expected {want}")
            if not same(m, p) or m["issued_on"] != pp["issued_on"] or m["division_code"] != pp["division_code"]:
                err(f"{pid}: МВД record differs")
        # СФР
        s = sfr_by.get(p["snils"])
        if case == "snils_unknown":
            if s:
                err(f"{pid}: snils_unknown but СФР has {p['snils']}")
        elif not s:
            err(f"{pid}: СФР has no {p['snils']}")
        else:
            used_sfr.add(p["snils"])
            if case == "snils_mismatch":
                if s["first_name"] == p["first_name"] or s["birth_date"] == p["birth_date"]:
                    err(f"{pid}: snils_mismatch record is too close to the person")
            elif not same(s, p, ident + ("sex",)):
                err(f"{pid}: СФР record differs")
        # ФНС
        f = fns_by_pp.get(key)
        if not f:
            err(f"{pid}: ФНС has no record for passport {key}")
            continue
        used_fns.add(f["inn"])
        if not same(f, p):
            err(f"{pid}: ФНС record differs")
        if case == "inn_mismatch":
            if f["inn"] == p["inn"] or p["inn"] in fns_by_inn:
                err(f"{pid}: inn_mismatch but the claimed ИНН is in ФНС")
        elif f["inn"] != p["inn"] or fns_by_inn.get(p["inn"]) is not f:
            err(f"{pid}: ФНС ИНН differs")
        # An ok person is found in every registry with exactly the same fields.
        if case == "ok" and not (m and m["status"] == "valid" and s and same(s, p, ident + ("sex",))
                                 and f["inn"] == p["inn"]):
            err(f"{pid}: ok person not found everywhere")
    if len(used_mvd) != len(mvd) or len(used_sfr) != len(sfr) or len(used_fns) != len(fns):
        err("registry records that belong to no person")

    counts = {c: sum(1 for p in people if p["case"] == c) for c in CASES}
    for c in FAILING_CASES:
        if counts[c] < 8:
            err(f"only {counts[c]} people with case {c}")
    if not 0.75 <= counts["ok"] / len(people) <= 0.85:
        err(f"ok share {counts['ok'] / len(people):.0%}")

    # Demo people first: 6 ok, then passport_invalid, snils_mismatch, inn_mismatch.
    demo = [p for p in people if p["demo"]]
    if people[:len(demo)] != demo:
        err("demo people are not first")
    if [p["case"] for p in demo] != ["ok"] * 6 + ["passport_invalid", "snils_mismatch", "inn_mismatch"]:
        err(f"demo cases: {[p['case'] for p in demo]}")
    if len({(p["last_name"], p["first_name"]) for p in demo}) != len(demo):
        err("demo names are not distinct")
    return errors


def report(data: dict) -> None:
    people = data["people"]
    print(f"people: {len(people)}")
    for c in CASES:
        n = sum(1 for p in people if p["case"] == c)
        d = sum(1 for p in people if p["case"] == c and p["demo"])
        print(f"  {c:17} {n:4}   (demo {d})")
    statuses = {}
    for r in data["mvd_passports"]:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print(f"mvd_passports: {len(data['mvd_passports'])} {statuses}")
    print(f"sfr_snils: {len(data['sfr_snils'])}")
    print(f"fns_inn: {len(data['fns_inn'])}")
    regions: dict[str, int] = {}
    for p in people:
        r = REGIONS[REGION_BY_OKATO[p["passport"]["series"][:2]]]["issuer"]
        regions[r] = regions.get(r, 0) + 1
    for r, n in regions.items():
        print(f"  {n:4}  {r}")
    ages = [age_on(parse(p["birth_date"]), TODAY) for p in people]
    print(f"ages {min(ages)}–{max(ages)}; female {sum(p['sex'] == 'female' for p in people)}, "
          f"no patronymic {sum(p['middle_name'] is None for p in people)}, "
          f"with ё {sum('ё' in p['last_name'] + p['first_name'] + (p['middle_name'] or '') for p in people)}")
    print("demo people:")
    for p in people:
        if p["demo"]:
            pp = p["passport"]
            print(f"  {p['id']} {p['last_name']} {p['first_name']} {p['middle_name'] or ''}, "
                  f"{p['birth_date']}, паспорт {pp['series'][:2]} {pp['series'][2:]} {pp['number']} "
                  f"от {pp['issued_on']}, СНИЛС {p['snils']}, ИНН {p['inn']}, {p['case']}")


def self_test() -> list[str]:
    """The check-digit functions against the published examples."""
    errors = []
    if snils_format("112233445") != "112-233-445 95":
        errors.append("СНИЛС example")
    for nine, want in (("900000001", 82), ("550000055", 0), ("550000056", 0),
                       ("550000057", 1), ("996100000", 0), ("999999999", 1)):
        if snils_check(nine) != want:
            errors.append(f"СНИЛС check of {nine}")
    if not inn_is_valid("500100732259") or inn_is_valid("500100732258"):
        errors.append("ИНН example")
    return errors


def main() -> int:
    errors = self_test()
    if "--check" not in sys.argv:
        data = build()
        if build() != data:
            errors.append("not deterministic: two runs differ")
        text = dump(data)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text, encoding="utf-8")
    # Check what is on disk, not what is in memory.
    loaded = json.loads(OUT.read_text(encoding="utf-8"))
    errors += check(loaded)
    report(loaded)
    if errors:
        print(f"\nSELF-CHECK FAILED: {len(errors)} problem(s)", file=sys.stderr)
        for e in errors[:50]:
            print(f"  {e}", file=sys.stderr)
        return 1
    print(f"\nself-check passed: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
