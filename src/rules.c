/* Name rules: built-in ransom-note names and extensions, community FSRM list import, and fast name matching. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "rules.h"
#include "util.h"

/*
 * Names ransomware families drop as notes. Generic names some families also
 * use (readme.txt) are in builtin_weak_notes instead: ordinary files carry them too.
 */
static const char *const builtin_notes[] = {
	/* CryptoLocker, CryptoWall */
	"DECRYPT_INSTRUCTIONS.txt", "DECRYPT_INSTRUCTIONS.html", "DECRYPT_INSTRUCTION.txt",
	"DECRYPT_INSTRUCTION.html", "DECRYPT_INSTRUCTION.url", "HELP_DECRYPT.html", "HELP_DECRYPT.txt",
	"HELP_DECRYPT.png", "HELP_DECRYPT.url", "HELP_DECRYPT.lnk", "INSTALL_TOR.url",
	"HELP_YOUR_FILES.html", "HELP_YOUR_FILES.txt", "HELP_YOUR_FILES.png",
	"HOW_TO_DECRYPT_FILES.txt", "HOW_TO_DECRYPT_FILES.html", "HOW_TO_DECRYPT.txt", "HOW_TO_DECRYPT.html",
	"DECRYPT_YOUR_FILES.txt", "DECRYPT_YOUR_FILES.html",
	/* TeslaCrypt, CryptXXX, Cerber */
	"HELP_RESTORE_FILES.txt", "HELP_TO_DECRYPT_YOUR_FILES.txt", "HELP_TO_SAVE_FILES.txt",
	"HOW_TO_RECOVER_FILES.txt", "README_FOR_DECRYPT.txt", "RECOVERY_KEY.txt", "de_crypt_readme.txt",
	"de_crypt_readme.html", "de_crypt_readme.bmp", "# DECRYPT MY FILES #.txt", "# DECRYPT MY FILES #.html",
	"# DECRYPT MY FILES #.vbs", "# README.hta",
	/* Locky, Zepto, Odin, Thor, Aesir */
	"_Locky_recover_instructions.txt", "_Locky_recover_instructions.bmp", "_HELP_instructions.html",
	"_HELP_instructions.txt", "_HELP_instructions.bmp", "_WHAT_is.html", "_HOWDO_text.html",
	"_HOWDO_text.bmp",
	/* WannaCry */
	"@Please_Read_Me@.txt", "@WanaDecryptor@.exe", "@WanaDecryptor@.exe.lnk", "@WanaDecryptor@.bmp",
	"!WannaDecryptor!.exe.lnk",
	/* CryptoMix, Globe, Spora and other common note names */
	"!!!_READ_ME_!!!.txt", "!!!README!!!.txt", "!!!READ_ME!!!.txt", "_HELP_INSTRUCTION.TXT",
	"INSTRUCTION RESTORE FILE.TXT", "How to restore files.hta", "YOUR_FILES_ARE_ENCRYPTED.HTML",
	"YOUR_FILES_ARE_ENCRYPTED.TXT", "YOUR_FILES_ARE_LOCKED.txt", "FILES ENCRYPTED.txt",
	"HOW TO DECRYPT FILES.txt", "HOW TO DECRYPT FILES.html", "How to decrypt your files.txt",
	"HOW TO RECOVER ENCRYPTED FILES.TXT", "HOW_TO_RESTORE_FILES.txt", "HOW_TO_RESTORE_FILES.html",
	"RECOVERY_INSTRUCTIONS.txt", "UNLOCK_FILES_INSTRUCTIONS.txt", "UNLOCK_FILES_INSTRUCTIONS.html",
	"#_#ReadMe#_#.rtf", "#_#WhatWrongWithMyFiles#_#.rtf", "ATTENTION! ALL YOUR FILES ARE ENCRYPTED.TXT",
	/* STOP/Djvu, Ryuk, LockBit, Maze, Egregor, Clop */
	"_readme.txt", "RyukReadMe.txt", "RyukReadMe.html", "Restore-My-Files.txt", "DECRYPT-FILES.txt",
	"DECRYPT-FILES.html", "RECOVER-FILES.txt", "ClopReadMe.txt", "!_READ_ME.RTF", "CONTI_README.txt",
	/* GandCrab, Babuk */
	"GDCB-DECRYPT.txt", "KRAB-DECRYPT.txt", "CRAB-DECRYPT.txt",
	"How To Restore Your Files.txt",
	/* MedusaLocker, Akira, Black Basta, Mallox, Cuba, HelloKitty, BianLian, Rhysida */
	"!!!READ_ME_MEDUSA!!!.txt", "HOW_TO_RECOVER_DATA.html", "akira_readme.txt", "instructions_read_me.txt",
	"HOW TO BACK FILES.txt", "!!FAQ for Decryption!!.txt",
	"read_me_unlock.txt", "Look at this instruction.txt", "CriticalBreachDetected.pdf",
	/* SamSam and others */
	"HELP_DECRYPT_YOUR_FILES.html", "0000-SORRY-FOR-FILES.html", "SORRY-FOR-FILES.html",
	"HOW_OPEN_FILES.hta", "!!! HOW TO DECRYPT FILES !!!.txt",
	"!!!!RESTORE_FILES!!!.txt", "READ_THIS_TO_DECRYPT.html", "README_HOW_TO_UNLOCK.TXT",
	"README_HOW_TO_UNLOCK.HTML", "HOW_DECRYPT.TXT", "HOW_DECRYPT.HTML", "ransomed.html",
	/* Names that start with '#', which a list cannot carry: such lines are comments */
	"#Read-for-recover.txt", "#HowToRecover.txt", "#SHINRA-Recovery.txt", "#recovery.txt",
	"#Restore-files.txt", "#FILE ENCRYPTED.txt", "#DECP_README#.rtf", "#HELP-DECRYPT-FCRYPT1.1#.txt",
	"#RECOVERY_FILES#.txt", "#README_GMAN#.rtf", "#HOW_DECRYPT_FILES#.html", "#NEWRAR_README#.rtf",
	"# How to Decrypt Files.txt", "#HOW_TO_UNRIP#.txt", "#_RESTORING_FILES_#.TXT",
	"#_DECRYPT_ASSISTANCE_#.txt", "###-READ-FOR-HELLPP.html",
};

/* Common names that are notes for some families and ordinary files elsewhere: weak evidence only. */
static const char *const builtin_weak_notes[] = {
	"readme.txt", "read_me.txt", "read-me.txt", "readme.html", "readme.htm", "read_me.html",
	"readme.hta", "readme.rtf", "instructions.txt", "instruction.txt", "instructions.html", "help.txt",
	"help.html", "!.txt", "info.txt", "info.hta", "message.txt", "warning.txt", "read.txt",
	"recover.txt", "recovery.txt", "restore.txt", "files.txt", "important.txt", "attention.txt",
	"notice.txt", "note.txt", "decrypt.txt", "contact.txt", "how_to.txt",
};

/*
 * A literal note name whose stem (the part before the last dot) is one of
 * these is weak whatever its extension: "README.TXT", "Info.hta", "READ_ME.html".
 */
static const char *const weak_stems[] = {
	"readme", "read_me", "read-me", "read me", "read", "instructions", "instruction", "info", "help",
	"message", "warning", "recover", "recovery", "restore", "important", "attention", "notice", "note",
	"notes", "files", "file", "contact",
};

/* Extensions ransomware gives the files it encrypts. */
static const char *const builtin_exts[] = {
	/* generic words several families append */
	"encrypted", "locked", "crypt", "crypted", "cry", "crypto", "encrypt", "enciphered", "crypz", "cryp1",
	"crinf", "crjoker", "lechiffre", "encryptedaes", "encryptedrsa", "kraken", "darkness", "nochance",
	"oshit", "rekt", "fucked", "paymst", "payms", "paymts", "pays", "gefickt", "porno", "pornoransom",
	/* Locky and descendants */
	"locky", "zepto", "odin", "thor", "aesir", "zzzzz", "shit", "osiris", "lukitus", "ykcol", "asasin",
	"diablo6",
	/* Cerber, WannaCry, TeslaCrypt, CTB-Locker, Shade */
	"cerber", "cerber2", "cerber3", "wncry", "wcry", "wnry", "wncryt", "wncyr", "ecc", "ezz", "exx",
	"micro", "ttt", "vvv", "zzz", "ccc", "ctbl", "ctb2", "xtbl", "ytbl", "breaking_bad", "heisenberg",
	"better_call_saul", "da_vinci_code", "no_more_ransom", "crypted000007",
	/* Ryuk, Conti, LockBit, Maze era and later */
	"ryk", "ryuk", "conti", "lockbit", "abcd", "clop", "ciop", "c_l_o_p", "akira", "powerranges", "basta",
	"royal", "royal_w", "rhysida", "cuba", "mallox", "malloxx", "bozon", "medusa", "babyk",
	"avdn", "nefilim", "nephilim", "megac0rtx", "snatch", "zeppelin",
	"blackbyte", "karma",
	/* GandCrab, Dharma/Crysis, Phobos, Makop, Matrix, GlobeImposter */
	"gdcb", "crab", "krab", "dharma", "wallet", "onion", "arena", "cesar", "arrow", "bip", "combo",
	"brrr", "gamma", "heets", "crysis", "phobos", "eking", "eight", "actin", "acute", "adage", "banjo",
	"devos", "makop", "dewar", "caleb", "calum", "nemty", "globeimposter", "mtxlock",
	/* STOP/Djvu */
	"djvuu", "udjvu", "uudjvu", "djvuq", "djvur", "djvus", "djvut", "pdff", "tfude", "tfudeq",
	"tfudet", "rumba", "adobee", "promos", "promoz", "promock", "promorad", "promorad2", "kroput",
	"kroput1", "pulsar1", "charck", "klope", "kvag", "domn", "nesa", "kuub", "msop", "hets", "gesd",
	"merl", "mkos", "nbes", "redl", "kodc", "nosu", "reha", "topi", "npsg", "btos", "repp", "alka",
	"bboo", "rooe", "mmnn", "ooss", "mool", "nppp", "rezm", "lokd", "foop", "remk", "npph", "kolz",
	"lyli", "sqpc",
	/* Jigsaw, SamSam, CryptoMix, Scarab and others */
	"weapologize", "stubbin", "breeding123", "suppose666", "disposed2017", "whereisyourfiles",
	"vforvendetta", "cryptoshield", "lesli", "rdmk", "zayka", "scarab", "purge",
	"globe", "btcware", "coverton", "rokku", "bleep", "r5a", "r4a", "zcrypt", "keranger", "vindows",
};

/* Families whose names carry a victim id or a mail address, so no fixed name or extension fits. */
static const char *const builtin_wilds[] = {
	"*.id-*.[*@*].*",			/* Dharma/Crysis: name.id-XXXX.[mail].ext */
	"*.id[*-*].[*@*].*",			/* Phobos: name.id[XXXX-NNNN].[mail].ext */
	"Recovery+*.txt", "Recovery+*.html", "Recovery+*.png",	/* TeslaCrypt */
	"_H_e_l_p_RECOVER_INSTRUCTIONS+*.txt", "_H_e_l_p_RECOVER_INSTRUCTIONS+*.html",
	"help_recover_instructions+*.txt", "help_recover_instructions+*.html",
	"_READ_THI$_FILE_*",			/* Cerber */
	"README_RECOVER_FILES_*.txt", "README_RECOVER_FILES_*.html",
	"RECOVER-*-FILES.txt",			/* BlackCat */
	"*-DECRYPT.txt",			/* GandCrab 5 */
	"RGNR_*.txt",				/* RagnarLocker */
	"#RECOVERY_FILES#.*", "#RECOVERY-PC#.*", "#*instructions-*#.*",	/* start with '#' */
};

/*
 * Extensions of ordinary files: never a ransomware extension, whatever a list
 * says. The extensions of the ordinary-name sample below are guarded too.
 */
static const char *const guard_exts[] = {
	/* documents, spreadsheets, presentations, e-mail */
	"doc", "docx", "docm", "dot", "dotx", "dotm", "wbk", "asd", "xls", "xlsx", "xlsm", "xlsb", "xlt",
	"xltx", "xltm", "xla", "xlam", "xlk", "csv", "tsv", "prn", "dif", "slk",
	"ppt", "pptx", "pptm", "pps", "ppsx", "ppsm", "pot", "potx", "potm", "sldx", "thmx", "odt", "ods",
	"odp", "odg", "odf", "odb", "odm", "ott", "ots", "otp", "otg", "fodt", "fods", "fodp",
	"rtf", "txt", "text", "md", "markdown", "rst", "adoc", "asciidoc", "org", "tex", "ltx", "sty", "cls",
	"bib", "bst", "aux", "toc", "pdf", "ps", "eps", "xps", "oxps", "epub", "mobi", "azw", "azw3", "fb2",
	"djvu", "chm", "hlp",
	"msg", "eml", "emlx", "pst", "ost", "mbox", "mbx", "oft", "nk2", "vcf", "vcard", "ics", "ical", "one",
	"onetoc2", "pub", "vsd", "vsdx", "vss", "vst", "mpp", "mpt", "wpd", "wps", "wp5", "pages", "numbers",
	"key", "abw", "lwp", "123", "qpw",
	/* images and photo sidecars */
	"jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp", "dib", "tif", "tiff", "webp", "heic", "heif",
	"avif", "svg", "svgz", "ico", "icns", "cur", "ani", "raw", "cr2", "cr3", "crw", "nef", "nrw", "arw",
	"srf", "sr2", "orf", "rw2", "dng", "raf", "pef", "x3f",
	"psd", "psb", "ai", "indd", "idml", "indb", "xcf", "kra", "cdr", "emf", "wmf", "tga", "dds", "exr",
	"hdr", "jxl", "jp2", "j2k", "pcx", "ppm", "pgm", "pbm", "pnm", "xbm", "xpm", "aae", "xmp", "thm",
	/* video */
	"mp4", "m4v", "mov", "qt", "avi", "mkv", "wmv", "flv", "f4v", "webm", "mpg", "mpeg", "mpe", "mp2",
	"m2v", "m2ts", "mts", "ts", "vob", "ifo", "bup", "3gp", "3g2", "ogv", "rm", "rmvb", "asf", "divx",
	"srt", "sub", "sbv", "vtt", "ass", "ssa", "lrv", "insv",
	/* audio */
	"mp3", "wav", "flac", "aac", "m4a", "m4b", "m4p", "ogg", "oga", "opus", "wma", "aif", "aiff", "aifc",
	"mid", "midi", "amr", "ape", "au", "caf", "mka", "snd", "ra", "ac3", "dts", "m3u", "m3u8", "pls",
	"cue",
	/* archives, disk images, packages */
	"zip", "zipx", "7z", "rar", "gz", "tgz", "gzip", "bz2", "tbz", "tbz2", "xz", "txz", "lz", "lzma",
	"lz4", "zst", "tzst", "tar", "cab", "iso", "img", "dmg", "vhd", "vhdx", "vmdk", "vdi", "qcow2", "ova",
	"ovf", "cpio", "rpm", "deb", "apk", "aab", "ipa", "jar", "war", "ear", "msi", "msix", "msp", "appx",
	"appxbundle", "pkg", "arj", "lzh", "wim", "esd", "sit", "sitx", "cpgz", "udf",
	/* source, scripts, configuration, web */
	"c", "h", "cc", "cpp", "cxx", "c++", "hpp", "hh", "hxx", "inl", "ipp", "m", "mm", "java", "class",
	"kt", "kts", "scala", "sc", "groovy", "gradle", "js", "mjs", "cjs", "jsx", "tsx", "vue", "svelte",
	"py", "pyc", "pyo", "pyw", "pyi", "pyx", "pxd", "ipynb", "rb", "erb", "rake", "gemspec", "php",
	"phtml", "inc", "pl", "pm", "pod", "t", "go", "rs", "cs", "csx", "csproj", "vbproj", "fsproj",
	"vcxproj", "filters", "sln", "suo", "user", "vb", "vbs", "vba", "bas", "frm", "frx", "ctl", "fs",
	"fsi", "fsx", "swift", "dart", "lua", "r", "rmd", "rdata", "rds", "jl", "sh", "bash", "zsh", "ksh",
	"csh", "fish", "ps1", "psm1", "psd1", "ps1xml", "bat", "cmd", "btm", "kix", "sql", "ddl", "asm", "s",
	"nasm", "erl", "hrl", "ex", "exs", "hs", "lhs", "clj", "cljs", "edn", "lisp", "lsp", "el", "elc",
	"scm", "ml", "mli", "vim", "diff", "patch", "json", "jsonl", "ndjson", "json5", "yaml", "yml", "toml",
	"ini", "cfg", "conf", "config", "cnf", "xml", "xsd", "xsl", "xslt", "dtd", "html", "htm", "xhtml",
	"shtml", "mht", "mhtml", "css", "scss", "sass", "less", "map", "wasm", "proto", "thrift", "avsc",
	"make", "mk", "cmake", "am", "in", "ac", "m4", "po", "mo", "properties", "env", "lock", "sum", "mod",
	"pack", "rev", "keep", "promisor", "bundle",	/* git: packfiles and their companions */
	"tf", "tfvars", "tfstate", "hcl", "nix", "dockerfile", "cfm", "cfc", "asp", "aspx", "ascx", "ashx",
	"asmx", "jsp", "jspx", "vm", "ftl", "tpl", "twig", "mustache", "hbs", "ejs", "pug", "jade", "liquid",
	"rdl", "rdlc", "resx", "resw", "xaml", "manifest", "plist", "strings", "nib", "storyboard", "xib",
	"pbxproj", "entitlements", "iml", "ipr", "iws", "sublime-project", "code-workspace", "editorconfig",
	"gitignore", "gitattributes", "gitmodules", "npmrc", "nvmrc", "lisp", "swift", "sage",
	/* build outputs and system files */
	"o", "obj", "a", "so", "dylib", "dll", "exe", "com", "lib", "pdb", "ilk", "exp", "idb", "ipch", "pch",
	"gch", "sys", "drv", "ocx", "cpl", "scr", "msc", "mui", "lnk", "url", "website", "library-ms",
	"search-ms", "inf", "cat", "reg", "pol", "adm", "admx", "adml", "evt", "evtx", "etl", "dmp", "mdmp",
	"hdmp", "wer",
	/* databases and application data */
	"dat", "db", "db3", "db-wal", "db-shm", "db-journal", "sqlite", "sqlite3", "sqlitedb", "sdf", "mdb",
	"accdb", "accde", "accdt", "laccdb", "ldb", "ldf", "mdf", "ndf", "ibd", "myd", "myi", "idx", "ndx",
	"dbf", "cdx", "fpt", "mdx", "gdb", "fdb", "nsf", "ntf", "qbw", "qbb", "qbm", "tlg",
	/* logs, temporary files, backup copies, downloads */
	"log", "out", "err", "pid", "tmp", "temp", "bak", "old", "orig", "backup", "bkp", "bck", "bk", "sav",
	"save", "swp", "swo", "swn", "cache", "lck", "part", "partial", "crdownload", "download", "opdownload",
	"torrent", "!ut", "crash", "stackdump", "trace", "prof",
	/* backup software */
	"tib", "tibx", "vbk", "vib", "vrb", "vbm", "bkf", "gho", "v2i", "spf", "wbcat", "mrimg", "mrbak",
	"qic", "nbd",
	/* fonts */
	"ttf", "otf", "woff", "woff2", "eot", "fon", "fnt", "pfb", "pfm", "afm",
	/* maps, CAD, 3D */
	"gpx", "kml", "kmz", "shp", "shx", "prj", "geojson", "gpkg", "dwg", "dxf", "dwf", "dgn", "step", "stp",
	"iges", "igs", "stl", "fbx", "blend", "blend1", "3ds", "max", "skp", "ifc", "rvt", "rfa", "rte",
	"sldprt", "sldasm", "slddrw", "ipt", "iam", "idw", "catpart", "catproduct", "prt", "ply", "3mf",
	"gcode",
	/* keys, certificates and encryption tools people use themselves */
	"gpg", "pgp", "asc", "sig", "sign", "enc", "aes", "axx", "p7m", "p7s", "p7b", "p7c", "p12", "pfx",
	"pem", "crt", "cer", "der", "csr", "kdbx", "kdb", "keychain", "keystore", "jks", "ovpn", "ppk", "age",
	/* captures and metadata */
	"cap", "pcap", "pcapng", "har", "info", "nfo", "diz", "rsa", "test", "stamp", "timestamp", "spec",
	"rules", "desktop", "directory", "service", "socket", "timer", "mount", "target",
};

/*
 * Realistic names of ordinary files on a file share. An imported wildcard
 * that matches any of them is refused, a literal one becomes a weak note.
 */
static const char *const ordinary_names[] = {
	"Quarterly Report Q3 2026.docx", "Quarterly Report Q3 2026 - Copy.docx", "Budget 2027.xlsx",
	"Budget 2027 v2 FINAL.xlsx", "Board Presentation.pptx", "Minutes 2026-11-03.docx", "Invoice-10234.pdf",
	"INV_2026_00417.pdf", "Contract_signed.pdf", "NDA - Acme Corp (signed).pdf", "CV_Jane_Doe.docx",
	"Cover letter.docx", "Meeting notes.txt", "notes.txt", "todo.txt", "TODO.md",
	"Patient intake form.docx", "Discharge summary 20261104.pdf", "Lab results 2026-10.xlsx",
	"Referral letter - Dr Smith.docx", "Consent form (Spanish).pdf", "Staff rota December.xlsx",
	"Payroll_2026_10.xlsx", "Expense claim.xlsm", "Timesheet week 45.xlsx", "Template.dotx",
	"Letterhead.dotm", "Mail merge.docm", "Old report.doc", "Legacy budget.xls", "Slides.ppt",
	"Handout.pps", "Agenda.odt", "Inventory.ods", "Training.odp", "policy.rtf",
	"Employee Handbook 2026.pdf", "Fire evacuation plan.pdf", "Org chart.vsdx", "Project plan.mpp",
	"Newsletter.pub", "Price list.csv", "customers.csv", "export (1).csv", "output.csv", "data.tsv",
	"report (2).pdf", "Copy of Budget 2027.xlsx", "report_v2_FINAL_final.docx", "Scan_20261101_101522.pdf",
	"scan0001.tif", "Scan0001.pdf", "Fax_2026-11-02.tif", "~$Budget 2027.xlsx", "~$port.docx",
	"~$nutes 2026-11-03.docx", "~WRL0003.tmp", "~WRD0001.tmp", "~WRF1234.tmp", "~DF8C1A2B3C4D5E6F7.TMP",
	"~$Board Presentation.pptx", "ppt5A2.tmp", "A1B2C3D4.tmp", "8F3C2E10.tmp", ".~lock.Agenda.odt#",
	"._Quarterly Report Q3 2026.docx", ".DS_Store", "Thumbs.db", "desktop.ini", "ehthumbs.db",
	"ehthumbs_vista.db", "Icon\r", ".localized", ".directory", "folder.jpg", "AlbumArtSmall.jpg",
	"IMG_1234.JPG", "IMG_1234.HEIC", "IMG_1234.AAE", "IMG_1234.MOV", "IMG_1234.JPG.json",
	"IMG_1234.JPG.supplemental-metadata.json", "IMG_20261101_123456.jpg", "IMG_20261101_123456_HDR.jpg",
	"IMG-20261101-WA0007.jpg", "DSC_0001.jpg", "DSC_0001.NEF", "DSC00001.ARW", "DSC00001.JPG",
	"DSCN0001.JPG", "DSCF0001.RAF", "P1010001.JPG", "_MG_1234.CR2", "_DSC1234.dng",
	"PXL_20261101_101010123.jpg", "PXL_20261101_101010123.MP.jpg", "Screenshot 2026-11-01 at 10.15.22.png",
	"Screenshot_20261101-101522.png", "Screenshot (12).png", "Screen Shot 2026-11-01 at 10.15.22 AM.png",
	"WhatsApp Image 2026-11-01 at 10.15.22.jpeg", "WhatsApp Video 2026-11-01 at 10.15.22.mp4",
	"photo.jpeg", "Photo 01.jpg", "weekend.jpg", "weekend-in-Paris-042.jpg", "Friends.jpg", "legend.png",
	"logo.svg", "logo@2x.png", "banner.webp", "favicon.ico", "icon-192.png", "header-background.jpg",
	"wedding-album-0042.jpg", "Christmas party 2025 047.jpg", "Holiday 2026.mkv",
	"VID_20261101_101010.mp4", "GOPR0001.MP4", "GX010001.MP4", "GOPR0001.LRV", "MVI_1234.MOV", "00001.MTS",
	"clip.avi", "movie.m4v", "webinar-recording.webm", "Zoom Recording 2026-11-01.mp4", "subtitles.en.srt",
	"VIDEO_TS.IFO", "VTS_01_1.VOB", "01 - Track One.mp3", "02 Intro.flac", "voice memo.m4a",
	"New Recording 12.m4a", "podcast-episode-12.ogg", "ringtone.wav", "playlist.m3u", "main.c", "util.h",
	"rules.c", "Makefile", "GNUmakefile", "CMakeLists.txt", "configure", "configure.ac", "Makefile.am",
	"Makefile.in", "README", "README.md", "README.txt", "readme.html", "README.rst", "LICENSE",
	"LICENSE.txt", "COPYING", "AUTHORS", "CHANGELOG.md", "NEWS", "INSTALL", "INSTALL.txt",
	"CONTRIBUTING.md", "SECURITY.md", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
	"Cargo.toml", "Cargo.lock", "go.mod", "go.sum", "Gemfile", "Gemfile.lock", "composer.json",
	"composer.lock", "poetry.lock", "requirements.txt", "setup.py", "setup.cfg", "pyproject.toml",
	"__init__.py", "app.py", "manage.py", "crypto_utils.py", "encryption.py", "test_encrypt.py",
	"encode.js", "index.js", "index.html", "style.css", "app.min.js", "app.min.js.map", "bundle.js",
	"vendor.bundle.js.LICENSE.txt", "server.ts", "component.tsx", "Program.cs", "App.config", "Web.config",
	"appsettings.json", "appsettings.Development.json", "project.csproj", "Solution.sln", "Main.java",
	"Main.class", "build.gradle", "pom.xml", "Dockerfile", "docker-compose.yml", ".gitignore",
	".gitattributes", ".editorconfig", ".env", ".htaccess", ".bashrc", ".profile", "config.yaml",
	"settings.json", "lib.rs", "main.go", "script.sh", "deploy.ps1", "run.bat", "run.sh", "runtests.sh",
	"install.cmd", "logon.bat", "logon.kix", "query.sql", "schema.sql", "dump.sql", "notebook.ipynb",
	"analysis.R", "report.Rmd", "thesis.tex", "thesis.pdf", "refs.bib", "main.o", "libfoo.a", "libfoo.so",
	"libfoo.so.1.2.3", "app.exe", "app.pdb", "app.dll", "app.exe.config", "a.out", "core", "core.12345",
	"nohup.out", "output.log", "build_output.txt", "build.log", "build.warnings.txt", "stdout.txt",
	"stderr.log", "test-results.xml", "coverage.xml", "foo-1.0.tar.gz", "foo-1.0-py3-none-any.whl",
	"setup.exe", "Setup.msi", "vc_redist.x64.exe", "installer.dmg", "ubuntu-24.04-desktop-amd64.iso",
	"backup-2026-11-01.tar.gz", "backup-2026-11-01.tar.gz.sha256", "backup.zip",
	"Backup of Budget 2027.xlk", "db_dump_20261101.sql.gz", "site-backup.tar.bz2", "export.7z",
	"archive.rar", "archive.part1.rar", "archive.r00", "data.bak", "report.docx.bak", "settings.old",
	"config.orig", "file.crdownload", "movie.mp4.part", "syslog", "syslog.1", "syslog.2.gz", "messages",
	"access.log", "access.log.1", "error.log", "error.log.2026-11-01", "app.log.2026-11-01", "events.csv",
	"audit.log", "timeout.log", "NTUSER.DAT", "ntuser.dat.LOG1", "ntuser.ini", "UsrClass.dat",
	"IconCache.db", "thumbcache_256.db", "cversions.2.db", "Outlook.pst", "archive.pst", "mailbox.ost",
	"contacts.vcf", "calendar.ics", "Shortcut.lnk", "Google Chrome.lnk", "link.url", "Bookmarks",
	"places.sqlite", "cookies.sqlite", "Login Data", "History", "cert.pem", "server.crt",
	"server.key", "secret.key",
	"ca-bundle.crt", "id_rsa", "id_rsa.pub", "id_ed25519", "known_hosts", "authorized_keys",
	"keystore.jks", "passwords.kdbx", "Database.kdbx", "secring.gpg", "pubring.kbx", "trustdb.gpg",
	"ownertrust.txt", "BitLocker Recovery Key 4F3E2D1C-5B6A-7980-1A2B-3C4D5E6F7A8B.txt",
	"msgstore.db.crypt14", "msgstore-2026-11-01.1.db.crypt14", "msgstore.db.crypt15", "wa.db",
	"cryptography-notes.docx", "Cryptography lecture 3.pptx", "encrypted-email-howto.pdf",
	"Encrypted Email Guide.pdf", "encryption-policy.pdf", "Encryption Key Management Policy.docx",
	"How to send an encrypted email.docx", "How to restore files from backup.docx",
	"How to recover a deleted file.pdf", "Restore procedure.docx", "recovery-plan.docx",
	"Disaster Recovery Plan 2026.docx", "how_to_recover_deleted_files.pdf",
	"how_to_unlock_your_account.pdf", "howto_restore_from_backup.md", "restore_files.sh",
	"help_instructions.pdf",
	"pst_recover_steps.docx", "laptop-recover-checklist.docx", "How to decrypt an encrypted email.docx",
	"how_to_decrypt_secure_email.pdf", "decryption-test.txt", "encoding.md", "UTF-8 encoding notes.txt",
	"runbook.pdf", "Runbook - Incident Response.docx", "rundown.docx", "lockfile.txt", "lockfile",
	"Lockout policy.docx", "locksmith-invoice.pdf", "lock.json", "project.end.txt", "end.txt",
	"weekend-plans.docx", "agenda.docx", "calendar.xlsx", "appendix-a.pdf", "Addendum 1.pdf",
	"endpoint-config.json", "frontend.zip", "backend.tar.gz", "outbox.pst", "layout.css", "checkout.html",
	"without-logo.png", "help.txt", "HELP.md", "help.html", "Help.chm", "info.txt", "message.txt",
	"instructions.pdf", "Instructions.docx", "Installation instructions.txt", "warning.txt",
	"important.txt", "index.txt", "contents.txt", "file.txt", "files.txt", "New Text Document.txt",
	"New Text Document (2).txt", "New Microsoft Word Document.docx", "New Microsoft Excel Worksheet.xlsx",
	"Document1.docx", "Book1.xlsx", "Untitled.png", "untitled.txt", "Untitled-1.psd", "Logo final.ai",
	"Brochure.indd", "poster.pdf", "flyer_A5.pdf", "Business cards.cdr", "drawing.dwg", "floorplan.dxf",
	"model.stl", "scene.blend", "scene.blend1", "part.sldprt", "track.gpx", "map.kml", "fonts.zip",
	"Roboto-Regular.ttf", "OpenSans-Bold.otf", "Präsentation.pptx", "Résumé.docx", "Bericht_2026.docx",
	"données.csv", "Übersicht.xlsx", "报告.docx", "отчет.xlsx", "Informe anual 2026.pdf", "Relatório.docx",
	"Factuur 2026-001.pdf", "fattura-2026-11.pdf", "Rechnung Nr. 4711.pdf", "tor.exe", "firefox.exe",
	"chrome_installer.exe", "TeamViewer_Setup.exe", "AcroRd32.exe", "putty.exe", "WinSCP.ini",
	"7z2409-x64.exe", "python-3.12.0-amd64.exe", "node-v20.10.0-x64.msi", "jdk-21_windows-x64_bin.msi",
	"OfficeSetup.exe", "Zoom.pkg", "GoogleDriveSetup.exe", "driver.inf", "driver.sys", "driver.cat",
	"hosts", "services", "fstab", "smb.conf", "krb5.conf", "sharewarden.conf", "nginx.conf", "httpd.conf",
	"php.ini", "my.cnf", "crontab", "passwd", "group", "shadow", "sudoers", "resolv.conf", "id_rsa.ppk",
	"vpn.ovpn", "client.ovpn", "Default.rdp", "server.rdp", "pagefile.sys", "swapfile.sys", "hiberfil.sys",
	"bootmgr", "BOOTNXT", "vmlinuz", "initrd.img", "grub.cfg", "VM disk.vmdk", "Windows 11.vhdx",
	"ubuntu.qcow2", "appliance.ova", "snapshot.vmsn", "nvram", "disk.img", "Windows Server 2022.iso",
	"dump.rdb", "journal.db", "journal.db-wal", "journal.db-shm", "app.sqlite", "data.db", "database.mdb",
	"Access database.accdb", "Access database.laccdb", "QuickBooks Company.qbw",
	"QuickBooks Company.qbw.tlg", "Company.QBB", "clients.dbf", "Acronis backup.tib", "Veeam job.vbk",
	"Veeam job.vib", "Backup.bkf", "restore.log", "recovery.log", "recovery.txt", "crash.log", "setup.log",
	"install.log", "debug.log", "pip-log.txt", "npm-debug.log", "hs_err_pid12345.log", "core.dump",
	"java_pid12345.hprof", "memory.dmp", "minidump.mdmp", "report.html", "report.htm", "index.php",
	"wp-config.php", "favicon.png", "robots.txt", "sitemap.xml", "feed.xml", "manifest.json",
	"service-worker.js", "jquery-3.7.1.min.js", "bootstrap.min.css", "fontawesome-webfont.woff2",
	"style.min.css.map", "translations.po", "messages.pot", "de.mo", "Localizable.strings", "Info.plist",
	"AndroidManifest.xml", "app-release.apk", "app.aab", "ios.ipa", "Podfile.lock", "Brewfile.lock.json",
	"flake.lock", "shell.nix", "terraform.tfstate", "terraform.tfstate.backup", "main.tf", "id.txt",
	"key.txt", "password.txt", "passwords.xlsx", "secret.txt", "token.json", "credentials.json",
	"license.key", "license.dat", "serial.txt", "activation.txt", "Receipt 2026-11-01.pdf",
	"Payment confirmation.pdf", "Order 10234.pdf", "Delivery note.pdf", "Shipping label.pdf",
	"Tracking.pdf", "statement_2026_10.pdf", "Bank statement October.pdf", "tax return 2025.pdf",
	"W-2 2025.pdf", "P60 2025.pdf", "Lohnabrechnung 2026-10.pdf", "vacation request.docx", "sick note.pdf",
	"doctor letter.pdf", "x-ray 2026-11-01.dcm", "MRI_0001.dcm", "DICOMDIR", "patient_1234.hl7",
	"results.xml", "ECG 2026-11-01.pdf", "prescription.pdf", "care plan.docx", "incident report.docx",
	"complaint.docx", "Visitor log.xlsx", "Key register.xlsx", "Fire drill log.xlsx", "Floor plan.pdf",
	"Parking permit.pdf", "Photo ID.jpg", "passport scan.pdf", "driving licence.jpg", "signature.png",
	"stamp.png", "letterhead.png", "Email signature.htm", "Email signature.txt", "Email signature.rtf",
	"Normal.dotm", "NormalEmail.dotm", "Blank.potx", "Theme.thmx",
};

/* What users reported matching ordinary files; refused whatever the other checks say. */
static const char *const known_bad[] = { "*.???", "*", "*crypt*", "*_out", "*.*exx" };

#define PATTERN_MAX	1024		/* longer lines are not patterns */
#define FILE_NAME_MAX	255		/* NAME_MAX: no base name is longer */
#define TRI_BITS	16
#define TRI_BUCKETS	(1u << TRI_BITS)
#define NONE		UINT32_MAX

enum rule_kind { KIND_NOTE, KIND_WEAK, KIND_EXT, KIND_WILD };

static const char *const kind_names[] = { "note", "weaknote", "ext", "wild" };
static const enum rule_hit kind_hits[] = { HIT_NOTE, HIT_NOTE_WEAK, HIT_EXT, HIT_WILDCARD };

struct rule {
	char *pat;		/* as written: "HELP_DECRYPT.html", "*.locky", "Recovery+*.txt" */
	char *key;		/* lowercase: the name, the extension after "*.", or the pattern */
	uint32_t keylen;
	uint32_t next;		/* next multi-dot extension with the same last part, or NONE */
	uint8_t kind;
	uint8_t builtin;
};

/* Open-addressing set of lowercase strings; the keys are owned by the set. */
struct hent {
	char *key;
	uint32_t len;
	uint32_t hash;
	uint32_t val;
};

struct hset {
	struct hent *e;
	uint32_t mask;
	uint32_t n;
};

/* A wildcard rule filed under one 3-byte piece of its fixed text. */
struct wild {
	uint32_t rule;
	uint32_t tri;
	uint32_t next;		/* index + 1 of the next wild in the bucket, 0 at the end */
};

/* The ordinary-name sample, the extensions it guards, and how often each trigram bucket occurs in it. */
struct ordinary {
	struct hset guard;
	struct hset names;
	uint8_t trifreq[TRI_BUCKETS];
};

struct rules {
	struct rule *rule;
	uint32_t nrule, caprule;
	struct hset names;	/* note and weak-note names -> rule */
	struct hset exts;	/* extensions without a dot -> rule */
	struct hset mexts;	/* last part of a dotted extension ("aes.janelle") -> first rule of a chain */
	struct hset wilds;	/* wildcard patterns -> rule */
	const struct ordinary *ord;	/* shared by every set */
	struct wild *wild;
	uint32_t nwild, capwild;
	uint32_t *head;		/* trigram bucket -> index + 1 of its first wild */
	uint64_t *bits;		/* trigram buckets in use */
	uint32_t *loose;	/* wilds with no 3 fixed bytes in a row: always tried */
	uint32_t nloose, caploose;
};

static inline unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static uint32_t
hash_ci(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= lc((unsigned char)s[i]);
		h *= 16777619u;
	}
	return h;
}

/* low is already lowercase; s is any bytes. */
static int
eq_ci(const char *low, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)low[i] != lc((unsigned char)s[i]))
			return 0;
	return 1;
}

static char *
lower_dup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)lc((unsigned char)s[i]);
	p[n] = '\0';
	return p;
}

static struct hent *
hset_find(const struct hset *hs, const char *s, size_t n, uint32_t h)
{
	struct hent *e;
	uint32_t i;

	if (hs->e == NULL)
		return NULL;
	for (i = h & hs->mask;; i = (i + 1) & hs->mask) {
		e = &hs->e[i];
		if (e->key == NULL)
			return NULL;
		if (e->hash == h && e->len == n && eq_ci(e->key, s, n))
			return e;
	}
}

static uint32_t
hset_get(const struct hset *hs, const char *s, size_t n)
{
	struct hent *e;

	if (hs->n == 0)
		return NONE;
	e = hset_find(hs, s, n, hash_ci(s, n));
	return e ? e->val : NONE;
}

static void
hset_grow(struct hset *hs)
{
	uint32_t cap = hs->e ? (hs->mask + 1) * 2 : 64, i, j;
	struct hent *e = xcalloc(cap, sizeof *e);

	for (i = 0; hs->e && i <= hs->mask; i++) {
		if (hs->e[i].key == NULL)
			continue;
		for (j = hs->e[i].hash & (cap - 1); e[j].key; j = (j + 1) & (cap - 1))
			;
		e[j] = hs->e[i];
	}
	free(hs->e);
	hs->e = e;
	hs->mask = cap - 1;
}

/* Adds s unless present. Returns its entry; *added says which. */
static struct hent *
hset_put(struct hset *hs, const char *s, size_t n, uint32_t val, int *added)
{
	uint32_t h = hash_ci(s, n), i;
	struct hent *e;

	if ((e = hset_find(hs, s, n, h)) != NULL) {
		if (added)
			*added = 0;
		return e;
	}
	if (hs->e == NULL || (hs->n + 1) * 2 > hs->mask + 1)
		hset_grow(hs);
	for (i = h & hs->mask; hs->e[i].key; i = (i + 1) & hs->mask)
		;
	e = &hs->e[i];
	e->key = lower_dup(s, n);
	e->len = (uint32_t)n;
	e->hash = h;
	e->val = val;
	hs->n++;
	if (added)
		*added = 1;
	return e;
}

static void
hset_free(struct hset *hs)
{
	uint32_t i;

	for (i = 0; hs->e && i <= hs->mask; i++)
		free(hs->e[i].key);
	free(hs->e);
	memset(hs, 0, sizeof *hs);
}

/* Length of the UTF-8 character at s, or 1 for a byte that starts none: '?' stands for one character. */
static size_t
u8len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i;

	if (u[0] < 0xc2 || u[0] > 0xf4)
		return 1;
	len = u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 1;
	for (i = 1; i < len; i++)
		if ((u[i] & 0xc0) != 0x80)
			return 1;
	return len;
}

/*
 * FSRM wildcard match: '*' any run, '?' one character, everything else
 * literal ('[' and '{' too). Greedy with a return to the last '*' only, so the
 * cost is O(len(p) * len(s)) at worst.
 */
static int
glob_match(const char *p, size_t m, const char *s, size_t n)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < n) {
		if (pi < m && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < m && p[pi] == '?') {
			pi++;
			si += u8len(s + si, n - si);
		} else if (pi < m && lc((unsigned char)p[pi]) == lc((unsigned char)s[si])) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			mark += u8len(s + mark, n - mark);
			si = mark;
		} else
			return 0;
	}
	while (pi < m && p[pi] == '*')
		pi++;
	return pi == m;
}

int
rules_glob(const char *pattern, size_t m, const char *name, size_t n)
{
	return glob_match(pattern, m, name, n);
}

static inline uint32_t
tri_bucket(uint32_t t)
{
	return (t * 2654435761u) >> (32 - TRI_BITS);
}

static int
is_wild(char c)
{
	return c == '*' || c == '?';
}

static uint32_t
rule_push(struct rules *r, const char *pat, size_t patlen, const char *key, size_t keylen,
    enum rule_kind kind, int builtin)
{
	struct rule *ru;

	if (r->nrule == r->caprule) {
		r->caprule = r->caprule ? r->caprule * 2 : 512;
		r->rule = xrealloc(r->rule, r->caprule * sizeof *r->rule);
	}
	ru = &r->rule[r->nrule];
	ru->pat = xstrndup(pat, patlen);
	ru->key = lower_dup(key, keylen);
	ru->keylen = (uint32_t)keylen;
	ru->next = NONE;
	ru->kind = (uint8_t)kind;
	ru->builtin = builtin != 0;
	return r->nrule++;
}

/* Adds a note or weak-note name. Returns 0 when the name is already known. */
static int
add_name(struct rules *r, const char *s, size_t n, enum rule_kind kind, int builtin)
{
	struct hent *e;
	int added;

	e = hset_put(&r->names, s, n, r->nrule, &added);
	if (added)
		e->val = rule_push(r, s, n, s, n, kind, builtin);
	return added;
}

/* Adds the extension after "*." (it may hold dots). Returns 0 when already known. */
static int
add_ext(struct rules *r, const char *ext, size_t n, int builtin)
{
	const char *dot = memrchr(ext, '.', n), *last;
	char *pat = xmalloc(n + 3);
	struct hent *e;
	uint32_t i;
	int added;

	memcpy(pat, "*.", 2);
	memcpy(pat + 2, ext, n);
	pat[n + 2] = '\0';
	if (dot == NULL) {
		e = hset_put(&r->exts, ext, n, r->nrule, &added);
		if (added)
			e->val = rule_push(r, pat, n + 2, ext, n, KIND_EXT, builtin);
		free(pat);
		return added;
	}
	/* Filed under its last part, which is what a name's last extension is looked up by. */
	last = dot + 1;
	e = hset_put(&r->mexts, last, n - (size_t)(last - ext), NONE, &added);
	for (i = e->val; i != NONE; i = r->rule[i].next)
		if (r->rule[i].keylen == n && eq_ci(r->rule[i].key, ext, n)) {
			free(pat);
			return 0;
		}
	i = rule_push(r, pat, n + 2, ext, n, KIND_EXT, builtin);
	r->rule[i].next = e->val;
	e->val = i;
	free(pat);
	return 1;
}

/* The 3 fixed bytes of a pattern that ordinary names contain least often, or NONE. */
static uint32_t
wild_trigram(const struct rules *r, const char *key, size_t n)
{
	uint32_t best = NONE, t;
	unsigned bestf = 0x100, f;
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if (is_wild(key[i]) || is_wild(key[i + 1]) || is_wild(key[i + 2]))
			continue;
		t = (uint32_t)(unsigned char)key[i] << 16 | (uint32_t)(unsigned char)key[i + 1] << 8 |
		    (unsigned char)key[i + 2];
		f = r->ord->trifreq[tri_bucket(t)];
		if (f < bestf) {
			bestf = f;
			best = t;
		}
	}
	return best;
}

/* Adds a wildcard pattern. Returns 0 when already known. */
static int
add_wild(struct rules *r, const char *s, size_t n, int builtin)
{
	struct hent *e;
	struct wild *w;
	uint32_t i, t, b;
	int added;

	e = hset_put(&r->wilds, s, n, r->nrule, &added);
	if (!added)
		return 0;
	i = e->val = rule_push(r, s, n, s, n, KIND_WILD, builtin);
	t = wild_trigram(r, r->rule[i].key, n);
	if (t == NONE) {
		if (r->nloose == r->caploose) {
			r->caploose = r->caploose ? r->caploose * 2 : 16;
			r->loose = xrealloc(r->loose, r->caploose * sizeof *r->loose);
		}
		r->loose[r->nloose++] = i;
		return 1;
	}
	if (r->nwild == r->capwild) {
		r->capwild = r->capwild ? r->capwild * 2 : 256;
		r->wild = xrealloc(r->wild, r->capwild * sizeof *r->wild);
	}
	b = tri_bucket(t);
	w = &r->wild[r->nwild];
	w->rule = i;
	w->tri = t;
	w->next = r->head[b];
	r->head[b] = ++r->nwild;
	r->bits[b >> 6] |= 1ull << (b & 63);
	return 1;
}

static uint32_t
wild_try(const struct rules *r, uint32_t i, const char *s, size_t n)
{
	const struct rule *ru = &r->rule[i];

	return glob_match(ru->key, ru->keylen, s, n) ? i : NONE;
}

static uint32_t
wild_match(const struct rules *r, const char *s, size_t n)
{
	uint64_t seen[TRI_BUCKETS / 64];
	const struct wild *w;
	uint32_t t, b, i, k;
	int once = n > FILE_NAME_MAX;
	size_t j;

	for (k = 0; k < r->nloose; k++)
		if ((i = wild_try(r, r->loose[k], s, n)) != NONE)
			return i;
	if (n < 3)
		return NONE;
	/* No file name is that long; should one come, each bucket is tried once, not once per occurrence. */
	if (once)
		memset(seen, 0, sizeof seen);
	t = (uint32_t)lc((unsigned char)s[0]) << 8 | lc((unsigned char)s[1]);
	for (j = 2; j < n; j++) {
		t = (t << 8 | lc((unsigned char)s[j])) & 0xffffff;
		b = tri_bucket(t);
		if (!(r->bits[b >> 6] & (1ull << (b & 63))))
			continue;
		if (once) {
			if (seen[b >> 6] & (1ull << (b & 63)))
				continue;
			seen[b >> 6] |= 1ull << (b & 63);
		}
		for (k = r->head[b]; k != 0; k = w->next) {
			w = &r->wild[k - 1];
			if (w->tri == t && (i = wild_try(r, w->rule, s, n)) != NONE)
				return i;
		}
	}
	return NONE;
}

enum rule_hit
rules_match(const struct rules *r, const char *name, size_t n, const char **pattern)
{
	const char *dot, *ext;
	const struct rule *ru;
	size_t elen;
	uint32_t i;

	if (pattern)
		*pattern = NULL;
	if (r == NULL || name == NULL || n == 0)
		return HIT_NONE;
	if ((i = hset_get(&r->names, name, n)) != NONE)
		goto hit;
	dot = memrchr(name, '.', n);
	if (dot != NULL && dot > name && (size_t)(dot - name) + 1 < n) {
		ext = dot + 1;
		elen = n - (size_t)(ext - name);
		if ((i = hset_get(&r->exts, ext, elen)) != NONE)
			goto hit;
		for (i = hset_get(&r->mexts, ext, elen); i != NONE; i = r->rule[i].next) {
			ru = &r->rule[i];
			if (n > ru->keylen + 1 && name[n - ru->keylen - 1] == '.' &&
			    eq_ci(ru->key, name + n - ru->keylen, ru->keylen))
				goto hit;
		}
	}
	if ((i = wild_match(r, name, n)) == NONE)
		return HIT_NONE;
hit:
	ru = &r->rule[i];
	if (pattern)
		*pattern = ru->pat;
	return kind_hits[ru->kind];
}

/* The ordinary sample name the lowercase pattern matches, or NULL. */
static const char *
ordinary_match(const struct rules *r, const char *low, size_t n)
{
	uint32_t t = wild_trigram(r, low, n);
	size_t i;

	/* Three fixed bytes in a row that no ordinary name holds: no ordinary name can match. */
	if (t != NONE && r->ord->trifreq[tri_bucket(t)] == 0)
		return NULL;
	for (i = 0; i < nitems(ordinary_names); i++)
		if (glob_match(low, n, ordinary_names[i], strlen(ordinary_names[i])))
			return ordinary_names[i];
	return NULL;
}

static int
is_weak_name(const struct rules *r, const char *s, size_t n)
{
	const char *dot = memrchr(s, '.', n);
	size_t stem = dot && dot > s ? (size_t)(dot - s) : n, i;
	uint32_t k;

	if ((k = hset_get(&r->names, s, n)) != NONE && r->rule[k].kind == KIND_WEAK)
		return 1;
	if (hset_get(&r->ord->names, s, n) != NONE)
		return 1;
	/* Temporary files get random names ("FE04.tmp"): one of them is no evidence. */
	if (dot && n - stem - 1 == 3 && eq_ci("tmp", dot + 1, 3))
		return 1;
	for (i = 0; i < nitems(weak_stems); i++)
		if (strlen(weak_stems[i]) == stem && eq_ci(weak_stems[i], s, stem))
			return 1;
	return 0;
}

/* Why one dot-free extension is ordinary, or NULL. */
static const char *
ext_part_guarded(const struct rules *r, const char *s, size_t n, int alone)
{
	size_t i;

	if (n == 0)
		return "empty extension";
	if (n == 1 && alone)
		return "one-character extensions are ordinary";
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == n)
		return "numbered extensions are ordinary (rotated logs, versions, core dumps)";
	if (hset_get(&r->ord->guard, s, n) != NONE)
		return "ordinary extension";
	return NULL;
}

/*
 * Why the extension of a "*.ext" rule must not be one, or NULL. A dotted one
 * ("*.aes.JANELLE") is refused only when each part is ordinary or it matches
 * an ordinary name.
 */
static const char *
ext_guarded(const struct rules *r, const char *ext, size_t n, char *why, size_t whysz)
{
	char low[PATTERN_MAX + 3];
	const char *hit, *dot;
	size_t i, end;
	int all = 1;

	if (memchr(ext, '.', n) == NULL)
		return ext_part_guarded(r, ext, n, 1);
	if (ext[n - 1] == '.')
		return "ends with a dot, which no Windows file name does";
	for (i = 0; i <= n; i = end + 1) {
		dot = memchr(ext + i, '.', n - i);
		end = dot ? (size_t)(dot - ext) : n;
		if (ext_part_guarded(r, ext + i, end - i, 0) == NULL)
			all = 0;
	}
	if (all)
		return "every part of the extension is ordinary";
	/* As a suffix after a non-empty stem, the way rules_match() applies it. */
	memcpy(low, "?*.", 3);
	for (i = 0; i < n; i++)
		low[3 + i] = (char)lc((unsigned char)ext[i]);
	if ((hit = ordinary_match(r, low, n + 3)) != NULL) {
		snprintf(why, whysz, "matches the ordinary file name \"%s\"", hit);
		return why;
	}
	return NULL;
}

/*
 * Patterns that fix only one short piece of text ("*.luck*", "*_out",
 * "*.*anta") match inside far too many ordinary names. Returns that piece.
 */
static int
short_fragment(const char *p, size_t n, char *frag, size_t fragsz)
{
	size_t i = 0, j, k, chars, runs = 0, start = 0, len = 0;

	if (n == 0 || p[0] != '*')
		return 0;
	while (i < n) {
		if (p[i] == '?')
			return 0;
		if (p[i] == '*') {
			i++;
			continue;
		}
		for (j = i, chars = 0; j < n && !is_wild(p[j]); j++)
			chars += p[j] != '.';
		if (chars > 0) {
			if (chars >= 5 || ++runs > 1)
				return 0;
			start = i;
			len = j - i;
		}
		i = j;
	}
	if (runs != 1)
		return 0;
	k = len < fragsz - 1 ? len : fragsz - 1;
	memcpy(frag, p + start, k);
	frag[k] = '\0';
	return 1;
}

/*
 * Classifies one community-list pattern. Returns 1 with *kind set, or 0 with
 * the reason for refusing it in why.
 */
static int
classify(const struct rules *r, const char *p, size_t n, enum rule_kind *kind, char *why, size_t whysz)
{
	char low[PATTERN_MAX + 1], frag[64];
	const char *reason, *hit;
	size_t i, wilds = 0, fixed = 0;

	if (n > PATTERN_MAX) {
		snprintf(why, whysz, "longer than %d bytes", PATTERN_MAX);
		return 0;
	}
	if (memchr(p, '/', n) || memchr(p, '\0', n)) {
		snprintf(why, whysz, "contains '/' or a NUL byte, which no file name can");
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (is_wild(p[i]))
			wilds++;
		else if (p[i] != '.')
			fixed++;
	}
	if (wilds == 0) {
		if (n > FILE_NAME_MAX) {
			snprintf(why, whysz, "longer than a file name can be (%d bytes)", FILE_NAME_MAX);
			return 0;
		}
		*kind = is_weak_name(r, p, n) ? KIND_WEAK : KIND_NOTE;
		return 1;
	}
	if (fixed == 0) {
		snprintf(why, whysz, "only wildcards and dots");
		return 0;
	}
	if (n > 2 && p[0] == '*' && p[1] == '.') {
		for (i = 2; i < n && !is_wild(p[i]); i++)
			;
		if (i == n) {
			if ((reason = ext_guarded(r, p + 2, n - 2, why, whysz)) != NULL) {
				if (reason != why)
					snprintf(why, whysz, "%s", reason);
				return 0;
			}
			*kind = KIND_EXT;
			return 1;
		}
	}
	if (fixed < 4) {
		snprintf(why, whysz, "fewer than 4 literal characters");
		return 0;
	}
	for (i = 0; i < nitems(known_bad); i++)
		if (strlen(known_bad[i]) == n && eq_ci(known_bad[i], p, n)) {
			snprintf(why, whysz, "reported to match ordinary files");
			return 0;
		}
	if (short_fragment(p, n, frag, sizeof frag)) {
		snprintf(why, whysz, "its only fixed text \"%s\" is shorter than 5 characters", frag);
		return 0;
	}
	for (i = 0; i < n; i++)
		low[i] = (char)lc((unsigned char)p[i]);
	if ((hit = ordinary_match(r, low, n)) != NULL) {
		snprintf(why, whysz, "matches the ordinary file name \"%s\"", hit);
		return 0;
	}
	*kind = KIND_WILD;
	return 1;
}

static int
add_kind(struct rules *r, enum rule_kind kind, const char *p, size_t n, int builtin)
{
	switch (kind) {
	case KIND_NOTE:
	case KIND_WEAK:
		return add_name(r, p, n, kind, builtin);
	case KIND_EXT:
		return add_ext(r, p + 2, n - 2, builtin);
	case KIND_WILD:
		return add_wild(r, p, n, builtin);
	}
	return 0;
}

/* Writes bytes with those below 0x20, from 0x7f, and '\\' as \xNN. */
static void
put_escaped(FILE *fp, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			fprintf(fp, "\\x%02x", c);
		else
			fputc(c, fp);
	}
}

/* The same escaping into a buffer, for log lines; truncates. */
static const char *
escape(char *buf, size_t bufsz, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < bufsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static size_t
trim(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n;
}

/* One line of a community list; seen (may be NULL) holds the patterns of earlier lines. */
static int
import_line(struct rules *r, const char *line, size_t n, struct rules_import_stats *st, FILE *report,
    struct hset *seen)
{
	enum rule_kind kind;
	char why[512];
	int added = 1;

	st->lines++;
	n = trim(line, n);
	if (n == 0 || line[0] == '#')
		return 0;
	if (seen)
		hset_put(seen, line, n, 0, &added);
	if (!added) {
		st->duplicates++;
		return 0;
	}
	if (!classify(r, line, n, &kind, why, sizeof why)) {
		st->refused++;
		if (report) {
			fputs("refused ", report);
			put_escaped(report, line, n);
			fputs(": ", report);
			put_escaped(report, why, strlen(why));
			fputc('\n', report);
		}
		return 0;
	}
	/* Known already (built in, loaded, or an earlier import): nothing new. */
	if (!add_kind(r, kind, line, n, 0)) {
		st->duplicates++;
		return 0;
	}
	switch (kind) {
	case KIND_NOTE:
		st->notes++;
		break;
	case KIND_WEAK:
		st->weak_notes++;
		break;
	case KIND_EXT:
		st->extensions++;
		break;
	case KIND_WILD:
		st->wildcards++;
		break;
	}
	return 1;
}

int
rules_import_line(struct rules *r, const char *line, size_t n, struct rules_import_stats *st, FILE *report)
{
	struct rules_import_stats local;

	memset(&local, 0, sizeof local);
	return import_line(r, line, n, st ? st : &local, report, NULL);
}

int
rules_import(struct rules *r, const char *path, struct rules_import_stats *st, FILE *report)
{
	struct rules_import_stats local;
	struct hset seen;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int rc = 0, saved = 0;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	memset(&seen, 0, sizeof seen);
	errno = 0;
	while ((len = getline(&line, &cap, fp)) != -1)
		import_line(r, line, (size_t)len, st, report, &seen);
	if (ferror(fp)) {
		saved = errno ? errno : EIO;
		rc = -1;
	}
	free(line);
	fclose(fp);
	hset_free(&seen);
	if (rc == -1) {
		errno = saved;
		return -1;
	}
	log_debug("%s: %zu lines, %zu extensions, %zu notes, %zu weak notes, %zu wildcards, "
	    "%zu refused, %zu duplicates", path, st->lines, st->extensions, st->notes, st->weak_notes,
	    st->wildcards, st->refused, st->duplicates);
	return 0;
}

static int
fsync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = -1;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int
rules_save(const struct rules *r, const char *path)
{
	size_t plen = strlen(path);
	char *tmp = xmalloc(plen + 8);
	const struct rule *ru;
	FILE *fp = NULL;
	int fd, saved;
	uint32_t i;

	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0644) == -1 || (fp = fdopen(fd, "w")) == NULL)
		goto fail;
	fputs("# sharewarden name rules imported from community lists: kind<TAB>pattern,\n"
	    "# kind one of note, weaknote, ext (the extension after \"*.\"), wild.\n", fp);
	for (i = 0; i < r->nrule; i++) {
		ru = &r->rule[i];
		if (ru->builtin)
			continue;
		fputs(kind_names[ru->kind], fp);
		fputc('\t', fp);
		fputs(ru->kind == KIND_EXT ? ru->pat + 2 : ru->pat, fp);
		fputc('\n', fp);
	}
	if (fflush(fp) == EOF || ferror(fp) || fsync(fd) == -1)
		goto fail;
	if (fclose(fp) == EOF) {
		fp = NULL;
		fd = -1;
		goto fail;
	}
	fp = NULL;
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	if (fsync_dir(path) == -1)
		log_warn("%s: fsync of the directory", path);
	free(tmp);
	return 0;
fail:
	saved = errno ? errno : EIO;
	if (fp)
		fclose(fp);
	else if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

struct pending {
	enum rule_kind kind;
	size_t lineno;
	size_t n;
	char *p;
};

/* Adds one checked line of a saved list; what the guards refuse now is skipped with a warning. */
static void
load_one(struct rules *r, const char *path, const struct pending *pe)
{
	enum rule_kind kind = pe->kind;
	char why[512], buf[256], *pat = pe->p;
	size_t n = pe->n;

	if (kind == KIND_EXT) {
		/* Stored without the "*.": put it back so it is checked like an imported line. */
		pat = xmalloc(n + 3);
		memcpy(pat, "*.", 2);
		memcpy(pat + 2, pe->p, n);
		n += 2;
		pat[n] = '\0';
	}
	if (kind != KIND_WEAK && !classify(r, pat, n, &kind, why, sizeof why)) {
		log_warnx("%s:%zu: skipping %s: %s", path, pe->lineno, escape(buf, sizeof buf, pat, n), why);
		goto done;
	}
	if (kind != pe->kind && !(pe->kind == KIND_NOTE && kind == KIND_WEAK)) {
		log_warnx("%s:%zu: skipping %s: not a %s rule", path, pe->lineno,
		    escape(buf, sizeof buf, pat, n), kind_names[pe->kind]);
		goto done;
	}
	add_kind(r, kind, pat, n, 0);
done:
	if (pat != pe->p)
		free(pat);
}

int
rules_load(struct rules *r, const char *path)
{
	struct pending *pend = NULL;
	size_t npend = 0, cap = 0, linecap = 0, lineno = 0, errors = 0, n, i, k;
	char *line = NULL, *tab, buf[256];
	ssize_t len;
	FILE *fp;
	int saved = 0;

	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	errno = 0;
	while ((len = getline(&line, &linecap, fp)) != -1) {
		lineno++;
		n = trim(line, (size_t)len);
		if (n == 0 || line[0] == '#')
			continue;
		if ((tab = memchr(line, '\t', n)) == NULL) {
			log_warnx("%s:%zu: expected a kind, a tab and a pattern", path, lineno);
			errors++;
			continue;
		}
		for (k = 0; k < nitems(kind_names); k++)
			if (strlen(kind_names[k]) == (size_t)(tab - line) &&
			    memcmp(kind_names[k], line, (size_t)(tab - line)) == 0)
				break;
		if (k == nitems(kind_names)) {
			log_warnx("%s:%zu: unknown kind \"%s\" (note, weaknote, ext or wild)", path, lineno,
			    escape(buf, sizeof buf, line, (size_t)(tab - line)));
			errors++;
			continue;
		}
		n -= (size_t)(tab + 1 - line);
		if (n == 0 || n > PATTERN_MAX || memchr(tab + 1, '\0', n) || memchr(tab + 1, '/', n) ||
		    (k == KIND_EXT && (memchr(tab + 1, '*', n) || memchr(tab + 1, '?', n)))) {
			log_warnx("%s:%zu: not a valid %s pattern", path, lineno, kind_names[k]);
			errors++;
			continue;
		}
		if (npend == cap) {
			cap = cap ? cap * 2 : 256;
			pend = xrealloc(pend, cap * sizeof *pend);
		}
		pend[npend].kind = (enum rule_kind)k;
		pend[npend].lineno = lineno;
		pend[npend].n = n;
		pend[npend].p = xstrndup(tab + 1, n);
		npend++;
	}
	if (ferror(fp))
		saved = errno ? errno : EIO;
	else if (errors)
		saved = EINVAL;
	free(line);
	fclose(fp);
	/* All or nothing: a list with a bad line is not half loaded. */
	for (i = 0; i < npend; i++) {
		if (saved == 0)
			load_one(r, path, &pend[i]);
		free(pend[i].p);
	}
	free(pend);
	if (saved) {
		errno = saved;
		return -1;
	}
	log_debug("%s: %zu rules", path, npend);
	return 0;
}

const char *const *
rules_ordinary_names(size_t *n)
{
	*n = nitems(ordinary_names);
	return ordinary_names;
}

/* What every rule set checks imported patterns against, the same for all: built once, never freed. */
static struct ordinary ordinary;
static pthread_once_t ordinary_once = PTHREAD_ONCE_INIT;

static void
ordinary_build(void)
{
	struct ordinary *o = &ordinary;
	const char *s, *dot;
	uint32_t t;
	size_t i, j, n;

	for (i = 0; i < nitems(guard_exts); i++)
		hset_put(&o->guard, guard_exts[i], strlen(guard_exts[i]), 0, NULL);
	for (i = 0; i < nitems(ordinary_names); i++) {
		s = ordinary_names[i];
		n = strlen(s);
		hset_put(&o->names, s, n, 0, NULL);
		if ((dot = strrchr(s, '.')) != NULL && dot > s && dot[1] != '\0')
			hset_put(&o->guard, dot + 1, strlen(dot + 1), 0, NULL);
		for (j = 0; j + 3 <= n; j++) {
			t = (uint32_t)lc((unsigned char)s[j]) << 16 | (uint32_t)lc((unsigned char)s[j + 1]) << 8 |
			    lc((unsigned char)s[j + 2]);
			if (o->trifreq[tri_bucket(t)] < 0xff)
				o->trifreq[tri_bucket(t)]++;
		}
	}
}

struct rules *
rules_new_empty(void)
{
	struct rules *r = xcalloc(1, sizeof *r);

	pthread_once(&ordinary_once, ordinary_build);
	r->ord = &ordinary;
	r->head = xcalloc(TRI_BUCKETS, sizeof *r->head);
	r->bits = xcalloc(TRI_BUCKETS / 64, sizeof *r->bits);
	return r;
}

struct rules *
rules_new(void)
{
	struct rules *r = rules_new_empty();
	const char *s;
	size_t i;

	for (i = 0; i < nitems(builtin_weak_notes); i++)
		add_name(r, builtin_weak_notes[i], strlen(builtin_weak_notes[i]), KIND_WEAK, 1);
	for (i = 0; i < nitems(builtin_notes); i++)
		add_name(r, builtin_notes[i], strlen(builtin_notes[i]), KIND_NOTE, 1);
	for (i = 0; i < nitems(builtin_exts); i++) {
		s = builtin_exts[i];
		if (ext_part_guarded(r, s, strlen(s), 1) == NULL)
			add_ext(r, s, strlen(s), 1);
	}
	for (i = 0; i < nitems(builtin_wilds); i++)
		add_wild(r, builtin_wilds[i], strlen(builtin_wilds[i]), 1);
	return r;
}

static void *
dup_array(const void *p, size_t n, size_t size)
{
	void *q;

	if (p == NULL || n == 0)
		return NULL;
	q = xcalloc(n, size);
	memcpy(q, p, n * size);
	return q;
}

static void
hset_dup(struct hset *to, const struct hset *from)
{
	uint32_t i;

	*to = *from;
	if (from->e == NULL)
		return;
	to->e = dup_array(from->e, (size_t)from->mask + 1, sizeof *from->e);
	for (i = 0; i <= from->mask; i++)
		if (from->e[i].key != NULL)
			to->e[i].key = lower_dup(from->e[i].key, from->e[i].len);
}

struct rules *
rules_dup(const struct rules *r)
{
	struct rules *c = xcalloc(1, sizeof *c);
	uint32_t i;

	*c = *r;
	c->rule = dup_array(r->rule, r->caprule, sizeof *r->rule);
	for (i = 0; i < r->nrule; i++) {
		c->rule[i].pat = xstrdup(r->rule[i].pat);
		c->rule[i].key = lower_dup(r->rule[i].key, r->rule[i].keylen);
	}
	hset_dup(&c->names, &r->names);
	hset_dup(&c->exts, &r->exts);
	hset_dup(&c->mexts, &r->mexts);
	hset_dup(&c->wilds, &r->wilds);
	c->wild = dup_array(r->wild, r->capwild, sizeof *r->wild);
	c->head = dup_array(r->head, TRI_BUCKETS, sizeof *r->head);
	c->bits = dup_array(r->bits, TRI_BUCKETS / 64, sizeof *r->bits);
	c->loose = dup_array(r->loose, r->caploose, sizeof *r->loose);
	return c;
}

void
rules_free(struct rules *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrule; i++) {
		free(r->rule[i].pat);
		free(r->rule[i].key);
	}
	free(r->rule);
	hset_free(&r->names);
	hset_free(&r->exts);
	hset_free(&r->mexts);
	hset_free(&r->wilds);
	free(r->wild);
	free(r->head);
	free(r->bits);
	free(r->loose);
	free(r);
}

int
rules_ordinary_ext(const struct rules *r, const char *ext, size_t n)
{
	return ext_part_guarded(r, ext, n, 1) != NULL;
}
