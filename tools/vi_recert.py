# Vietnamese translations for re-certification (renewal after a certificate expires), shared by the
# catalog (course page), progress ("My training") and reports (HR transcript) catalogs; applied by
# tools/fill_po.py to each of them.
T = {
'Your certificate for this course expired on %(date)s. Complete the course again to renew it.':
    'Giấy chứng nhận của khóa học này đã hết hiệu lực từ ngày %(date)s. Hãy hoàn thành lại khóa học để được cấp lại giấy chứng nhận.',
'Your certificate expired on %(date)s. Complete the course again to renew it.':
    'Giấy chứng nhận đã hết hiệu lực từ ngày %(date)s. Hãy hoàn thành lại khóa học để được cấp lại.',
'Renew by %(date)s': 'Học lại trước ngày %(date)s',
'Renewal required': 'Cần học lại',
"Pass the course's tests again; the lessons you have read stay done.":
    'Hãy làm đạt lại các bài kiểm tra của khóa học; các bài học đã học vẫn được giữ nguyên.',
'Read the lessons again and mark each one done.': 'Hãy học lại các bài học và đánh dấu đã học từng bài.',
'Take the test again': 'Làm lại bài kiểm tra',
'Pass again to renew': 'Cần làm đạt lại',
}
