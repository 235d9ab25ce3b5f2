package sanctions

// cyrillic romanises Russian, Ukrainian, Belarusian, Serbian and Macedonian letters (lower case)
// close to BGN/PCGN, the system the OFAC, UN and EU lists mostly use ("Aleksandrovich",
// "Yevgenyevna"): a query typed in Cyrillic then meets the Latin names of the lists.
var cyrillic = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh",
	'з': "z", 'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o",
	'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts",
	'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu",
	'я': "ya",
	// Ukrainian and Belarusian
	'і': "i", 'ї': "yi", 'є': "ye", 'ґ': "g", 'ў': "u",
	// Serbian and Macedonian
	'ђ': "dj", 'ј': "j", 'љ': "lj", 'њ': "nj", 'ћ': "c", 'џ': "dz", 'ѓ': "gj", 'ќ': "kj", 'ѕ': "dz",
}

// latinSpecial covers the Latin letters that Unicode decomposition leaves alone (they are letters
// of their own, not a base letter with a mark), so that "Łukasz" meets "Lukasz" and "Straße"
// meets "Strasse".
var latinSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th",
	'ı': "i", 'ŀ': "l", 'ħ': "h", 'ŧ': "t", 'ĸ': "k", 'ŉ': "n", 'ſ': "s",
}

// transliterate returns the Latin spelling of one lower-case rune, and whether the tables know it.
func transliterate(r rune) (string, bool) {
	if s, ok := cyrillic[r]; ok {
		return s, true
	}
	if s, ok := latinSpecial[r]; ok {
		return s, true
	}
	return "", false
}
