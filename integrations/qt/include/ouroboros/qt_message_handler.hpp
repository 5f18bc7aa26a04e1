// A Qt message handler that publishes qDebug/qInfo/qWarning/qCritical/qFatal and QLoggingCategory
// output into an ouroboros segment, with the category as the tag.
//
//   ouroboros::logger log("my-qt-app");
//   ouroboros::qt::install_message_handler(log);
//   qCWarning(lcNetwork) << "connection lost";   // tag "network" (the category's name)
//
// Qt levels map as debug -> debug, info -> info, warning -> warn, critical -> error,
// fatal -> critical. When Qt passes a source location (debug builds, or QT_MESSAGELOGCONTEXT),
// it becomes the fields file, line and function. A fatal message is written before Qt aborts,
// so it is in the segment for any reader (the segment outlives the crashed process).
//
// Thread-safety: install/uninstall from one thread (usually main, before and after other threads
// log); the installed handler itself may run on any thread.
#pragma once

#include <QtGlobal>

#include "ouroboros/logger.hpp"

namespace ouroboros::qt {

struct handler_options {
  // Also pass every message on to the handler that was installed before (e.g. Qt's default,
  // which prints to stderr).
  bool chain_previous = false;
};

level from_qt(QtMsgType type) noexcept;

// Routes Qt's messages into `target` until uninstall_message_handler() (or until `target` is
// destroyed: uninstall before that). Replaces an earlier ouroboros handler.
void install_message_handler(logger& target, const handler_options& options = {});
// Restores the handler that was installed before install_message_handler().
void uninstall_message_handler();

}  // namespace ouroboros::qt
