"""Mail sources: what `trustdesk mail sync` has already read, per coach and folder or file.

Sync runs every few minutes from cron over mailboxes of tens of thousands of messages;
parsing them all each time would take minutes, and reading nothing new must take a
fraction of a second. So each source keeps a mark: for a Maildir the names of the
messages seen (the part before ":", which stays when a reader moves a message from new/
to cur/ or flags it), for an mbox its size, its modification time and how far it was
read. Unique per coach and path. Like every table of a coach's rows it carries the
coach, so on a practice `trustdesk practice setup` runs this and fences it with the rest.
"""

from peewee import DateTimeField, ForeignKeyField, Model, TextField


def up(migrator, db):
    class Coach(Model):
        class Meta:
            database = db
            table_name = "coach"

    class MailSource(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        path = TextField()
        mark = TextField(default="{}")
        read_at = DateTimeField()

        class Meta:
            database = db
            table_name = "mail_source"
            indexes = ((("coach", "path"), True),)

    db.create_tables([MailSource])
