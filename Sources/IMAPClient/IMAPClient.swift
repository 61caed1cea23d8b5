import IMAPCore
