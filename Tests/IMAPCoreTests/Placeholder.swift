import Testing
import IMAPCore
