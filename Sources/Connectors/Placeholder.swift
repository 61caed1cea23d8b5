import MailModel
