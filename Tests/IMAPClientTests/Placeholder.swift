import Testing
import IMAPClient
